-- Privileges of the case database's application roles (issue 16 item 2). Applied by the
-- owner of the tables (the migration role `vcs`) after every migration: `python -m models.migrate`
-- runs it when the roles exist, and `python -m models.roles` runs it alone. Idempotent.
-- models/roles.py fills in {worker} and {app} (quoted role names; default vcs_worker, vcs_app).
--
-- No application role owns a table or may create one: the tables belong to `vcs`, which only
-- the migrate service logs in as.
--   {worker}  the worker: reads and writes every table, except that the audit trail
--             (auditentry, auditseal) is append-only.
--   {app}     the console and the CLI, through the service layer: reads, and only the writes
--             it makes itself (a case registered, a victim added, representations, conditions,
--             statements and their withdrawal after a refusal, hospitals, information supplied
--             and disclosed, letters marked posted, access refusals, audit entries).
--             Everything else is the worker's, through Temporal.

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, {worker}, {app};
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, {worker}, {app};
REVOKE CREATE ON SCHEMA public FROM PUBLIC, {worker}, {app};
GRANT USAGE ON SCHEMA public TO {worker}, {app};

-- The worker.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {worker};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {worker};

-- The console and the CLI: read everything they show.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO {app};
GRANT INSERT ON offendercase, offence, victim, casenote, auditentry, representation,
    licencecondition, victimpersonalstatement, hospital, suppliedinformation, disclosure,
    disclosureitem, accessrefusal TO {app};
GRANT USAGE ON SEQUENCE offendercase_id_seq, offence_id_seq, victim_id_seq, casenote_id_seq,
    auditentry_id_seq, representation_id_seq, licencecondition_id_seq,
    victimpersonalstatement_id_seq, hospital_id_seq, suppliedinformation_id_seq,
    disclosure_id_seq, disclosureitem_id_seq, accessrefusal_id_seq TO {app};
-- Undoing its own insert when the workflow refuses the action (a refusal changes nothing).
GRANT DELETE ON representation, licencecondition, victimpersonalstatement TO {app};
-- The admin team marks letters posted: those two columns only.
GRANT UPDATE (posted_at, posted_by) ON correspondence TO {app};

-- The audit trail is append-only for every application role: no UPDATE, DELETE or TRUNCATE
-- (said again, so that no grant above can ever reach it). Seals are the worker's alone.
REVOKE UPDATE, DELETE, TRUNCATE ON auditentry, auditseal FROM PUBLIC, {worker}, {app};
REVOKE INSERT ON auditseal FROM {app};
