"""Reading a case's records, sharing information with other agencies, the audit trail and the
scheduled jobs: each checked against service/access.py before anything is read or written."""

from datetime import date
from typing import Any

from activities.audit_check import audit_export, audit_verify
from models.audit import AuditDetail
from models.audit_chain import ChainReport, append_audit
from models.case_repository import case_by_ref, history
from models.db import session_scope
from models.deadlines import offer_due
from models.hospital import Hospital
from models.hospital_repository import hospitals
from models.policy import current_policy
from models.records import AuditEntry, Correspondence, VloTask
from models.sharing import DisclosureRequest, SuppliedRequest
from models.sharing_repository import DisclosureRecord, disclose, disclosures_of, record_supplied
from models.task_repository import open_tasks, task_on_case
from models.victim import Enrolment, Victim
from models.victim_repository import victim_on_case, victims_of
from service.access import Action
from service.actor import Actor
from service.queries import checked
from service.temporal import ServiceBase
from workflows import schedules as jobs

SCHEDULED_JOBS = tuple(jobs.JOBS)  # the names the scheduled jobs go by


class RecordActions(ServiceBase):
    def victim_on_case(self, victim_id: int, case_ref: str) -> None:
        """A victim is named with their case: a mistyped ID is refused rather than reaching
        another case's victim."""
        victim_on_case(self.engine, victim_id, case_ref)

    def task_on_case(self, task_id: int, case_ref: str) -> None:
        task_on_case(self.engine, task_id, case_ref)

    def offer_due(self, case_ref: str, actor: Actor) -> date:
        """When the offer task of a victim added to this case falls due (Victims' Code)."""
        case = self._case(actor, Action.VIEW_CASE, case_ref)
        return offer_due(case.sentence_date, current_policy())

    def victims(
        self, case_ref: str, actor: Actor, *, with_names: bool = False
    ) -> list[tuple[Victim, Enrolment | None]]:
        """A case's victims; their names only for an actor allowed to see contact details,
        and each such look recorded in the case's audit trail (who, which victims)."""
        action = Action.VIEW_CONTACT_DETAILS if with_names else Action.VIEW_CASE
        case = self._case(actor, action, case_ref)
        rows = victims_of(self.engine, case_ref)
        if with_names and case.id is not None:
            shown = [v.id for v, _ in rows if v.id is not None]
            with session_scope(self.engine) as session:
                append_audit(
                    session,
                    case_id=case.id,
                    actor=actor.id,
                    action="contact_details_viewed",
                    detail=AuditDetail.of(victims=shown),
                )
        return rows

    def open_tasks(
        self, actor: Actor, *, case_ref: str | None = None, vlo: str | None = None
    ) -> list[tuple[VloTask, str]]:
        """Open tasks of a case, of the actor, or (for a manager) of another VLO in the
        actor's region."""
        if case_ref is not None:
            self._case(actor, Action.VIEW_CASE, case_ref)
            return open_tasks(self.engine, case_ref=case_ref)
        if vlo is None or vlo == actor.id:
            checked(self.engine, actor, Action.VIEW_MY_TASKS)
            return open_tasks(self.engine, assigned_to=actor.id)
        checked(self.engine, actor, Action.VIEW_REGION)
        rows = open_tasks(self.engine, assigned_to=vlo)
        regions = {ref: case_by_ref(self.engine, ref).region for ref in {r for _, r in rows}}
        return [(t, ref) for t, ref in rows if regions[ref] == actor.region]

    def history(self, case_ref: str, actor: Actor) -> tuple[list[AuditEntry], list[Correspondence]]:
        self._case(actor, Action.VIEW_CASE, case_ref)
        return history(self.engine, case_ref)

    def hospitals(self, actor: Actor) -> list[Hospital]:
        checked(self.engine, actor, Action.VIEW_CASE)
        return hospitals(self.engine)

    # ---- information sharing (models/sharing.py) --------------------------------------------

    def record_supplied(self, case_ref: str, request: SuppliedRequest, actor: Actor) -> int:
        self._case(actor, Action.RECORD_DISCLOSURE, case_ref)
        return record_supplied(self.engine, case_ref, request, actor.id)

    def disclose(self, case_ref: str, request: DisclosureRequest, actor: Actor) -> int:
        self._case(actor, Action.RECORD_DISCLOSURE, case_ref)
        return disclose(self.engine, case_ref, request, actor.id)

    def disclosures(self, case_ref: str, actor: Actor) -> list[DisclosureRecord]:
        self._case(actor, Action.VIEW_CASE, case_ref)
        return disclosures_of(self.engine, case_ref)

    # ---- the audit trail --------------------------------------------------------------------

    def audit_export(self, case_ref: str, actor: Actor) -> tuple[list[dict[str, Any]], ChainReport]:
        self._case(actor, Action.EXPORT_AUDIT, case_ref)
        return audit_export(self.engine, case_ref)

    def audit_verify(
        self, case_ref: str, actor: Actor, exported: list[dict[str, Any]] | None = None
    ) -> ChainReport:
        self._case(actor, Action.EXPORT_AUDIT, case_ref)
        return audit_verify(self.engine, case_ref, exported)

    # ---- the scheduled jobs (workflows/jobs.py) ----------------------------------------

    async def schedules(self, actor: Actor, name: str | None) -> list[jobs.ScheduleStatus]:
        checked(self.engine, actor, Action.MANAGE_SCHEDULES)
        names = [name] if name else list(jobs.JOBS)
        return [await jobs.describe(self.client, n) for n in names]

    async def pause_schedule(self, actor: Actor, name: str) -> jobs.Job:
        checked(self.engine, actor, Action.MANAGE_SCHEDULES)
        return await jobs.pause(self.client, name, actor.id)

    async def unpause_schedule(self, actor: Actor, name: str) -> jobs.Job:
        checked(self.engine, actor, Action.MANAGE_SCHEDULES)
        return await jobs.unpause(self.client, name, actor.id)

    async def trigger_schedule(self, actor: Actor, name: str) -> jobs.Job:
        checked(self.engine, actor, Action.MANAGE_SCHEDULES)
        return await jobs.trigger(self.client, name)
