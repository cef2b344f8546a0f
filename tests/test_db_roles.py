"""The case database's roles on the real PostgreSQL (issue 16 item 2; models/grants.sql): the
worker writes, the console and the CLI make only the service layer's own writes, no application
role owns a table, and the audit trail is append-only: UPDATE, DELETE and TRUNCATE on it are
refused by the database itself (permission denied), for every application role."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import ProgrammingError
from sqlmodel import select

from activities.audit_heads import export_heads
from models.access_log import AccessRefusal
from models.audit_chain import append_audit, lock_case_chain, seal_pending, verify_chain
from models.audit_key import DEVELOPMENT_AUDIT_KEY
from models.case_repository import add_conditions, register_case, withdraw_conditions
from models.db import make_engine, session_scope
from models.hospital import HospitalBase
from models.hospital_repository import add_hospital
from models.migrate import upgrade
from models.parole_repository import add_vps, withdraw_vps
from models.records import AuditEntry, AuditSeal, Correspondence, LicenceConditionBase
from models.representation_repository import add_representation, withdraw_representation
from models.roles import apply_grants
from models.sharing import (
    DisclosureRequest,
    InformationCategory,
    LawfulBasis,
    RecipientKind,
    SuppliedRequest,
)
from models.sharing_repository import disclose, record_supplied
from models.startup import ready_database
from models.victim_repository import add_victim
from models.vocabulary import Channel, ConditionKind, Language, LetterKind
from service.access import Action, Refused
from service.actor import Actor, Role
from service.outbox import mark_posted
from service.queries import checked
from tests.conftest import BACKENDS, POSTGRES_URL, unique_ref
from tests.helpers import registration, victim
from tests.test_audit_chain import entry_ids, rewrite_from

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL roles")

AUDIT_TABLES = ("auditentry", "auditseal")


@dataclass(frozen=True)
class Database:
    owner: Engine  # the tables' owner (here the test server's superuser), as migrations run
    worker: Engine
    app: Engine
    roles: tuple[str, str]


@pytest.fixture
def database(postgres_url: str) -> Iterator[Database]:
    """A database at head, with a worker and an app role of this test's own (roles are the
    whole server's: each test run names its own, and drops them)."""
    session_url = make_url(postgres_url)
    suffix = uuid.uuid4().hex[:8]
    name, worker, app = f"{session_url.database}_roles_{suffix}", f"w_{suffix}", f"a_{suffix}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        for role in (worker, app):
            connection.execute(text(f'CREATE ROLE "{role}" LOGIN NOINHERIT'))
            connection.execute(text(f'GRANT CONNECT ON DATABASE "{name}" TO "{role}"'))
    url = session_url.set(database=name)
    upgrade(url.render_as_string(hide_password=False))
    owner = make_engine(url.render_as_string(hide_password=False))
    with owner.begin() as connection:
        apply_grants(connection, worker, app)
    engines = [make_engine(url.set(username=r).render_as_string()) for r in (worker, app)]
    try:
        yield Database(owner, engines[0], engines[1], (worker, app))
    finally:
        for engine in (owner, *engines):
            engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            for role in (worker, app):
                connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def refused(engine: Engine, statement: str) -> str:
    """The database refuses: permission denied (SQLSTATE 42501), not our code."""
    with pytest.raises(ProgrammingError) as caught, engine.begin() as connection:
        connection.execute(text(statement))
    assert getattr(caught.value.orig, "sqlstate", None) == "42501", caught.value
    return str(caught.value.orig)


@pytest.fixture
def app_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The console and the CLI in production: no audit key (only the worker holds it)."""
    for name in ("VCS_DEVELOPMENT", "VCS_AUDIT_HMAC_KEY", "VCS_AUDIT_HMAC_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)


def registered_by_app(database: Database) -> tuple[str, int, int]:
    case_ref = unique_ref("ROLE")
    reg = registration(case_ref, datetime.now(UTC).date() - timedelta(days=30))
    reg = reg.model_copy(update={"mappa_category": 2, "mappa_level": 2})
    case = register_case(database.app, reg, "vlo.jones").case
    row = add_victim(database.app, case_ref, victim(), "vlo.jones")
    assert case.id is not None and row.id is not None
    return case_ref, case.id, row.id


def test_no_application_role_owns_or_may_create_a_table(database: Database) -> None:
    with database.owner.connect() as connection:
        owners = set(
            connection.execute(
                text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
        )
    assert owners and not owners & set(database.roles)
    for engine in (database.worker, database.app):
        assert "permission denied for schema public" in refused(
            engine, "CREATE TABLE mine (id int)"
        )


def test_the_audit_trail_is_append_only_for_every_application_role(
    database: Database, app_without_key: None
) -> None:
    _case_ref, case_id, _ = registered_by_app(database)
    with session_scope(database.worker) as session:  # the worker seals the app's entries
        lock_case_chain(session, case_id)
        assert seal_pending(session, case_id, DEVELOPMENT_AUDIT_KEY) == 2
    for engine in (database.worker, database.app):
        for table in AUDIT_TABLES:
            for statement in (
                f"UPDATE {table} SET case_id = case_id",
                f"DELETE FROM {table}",
                f"TRUNCATE {table}",
            ):
                message = refused(engine, statement)
                assert f"permission denied for table {table}" in message
    with session_scope(database.owner) as session:
        assert len(session.exec(select(AuditEntry)).all()) == 2
        assert len(session.exec(select(AuditSeal)).all()) == 2


def test_the_app_role_makes_the_service_layers_writes_and_no_others(
    database: Database, app_without_key: None, tmp_path: Path
) -> None:
    app = database.app
    case_ref, case_id, victim_id = registered_by_app(database)
    ready_database(app)  # its start-up check reads alembic_version

    representation = add_representation(app, victim_id, "Please keep him away from Leeds.")
    withdraw_representation(app, representation)
    conditions = add_conditions(
        app,
        case_ref,
        [
            LicenceConditionBase(
                kind=ConditionKind.NO_CONTACT,
                description="Not to contact the victim",
                victim_related=True,
                starts_on=datetime.now(UTC).date(),
            )
        ],
    )
    withdraw_conditions(app, conditions)
    vps = add_vps(app, f"vcs-parole-{case_ref}-1", victim_id, "What happened to me.", "vlo.jones")
    withdraw_vps(app, vps)
    add_hospital(app, HospitalBase(name="Rampton", address="Retford", postcode="DN22 0PD"), "x")
    today = datetime.now(UTC).date()
    supplied = SuppliedRequest(
        supplying_agency="Leeds housing",
        category=InformationCategory.RISK_INFORMATION,
        received_on=today,
    )
    record_supplied(app, case_ref, supplied, "vlo.jones")
    disclose(
        app,
        case_ref,
        DisclosureRequest(
            recipient_agency="West Yorkshire Police",
            recipient_kind=RecipientKind.POLICE,
            lawful_basis=LawfulBasis.CJA_S325_MAPPA,
            purpose="MAPPA level 2 risk management meeting",
            own_categories=[InformationCategory.LICENCE_CONDITIONS],
        ),
        "vlo.jones",
    )
    with session_scope(database.worker) as session:  # a letter the worker wrote
        letter = Correspondence(
            case_id=case_id,
            victim_id=victim_id,
            kind=LetterKind.OFFER,
            channel=Channel.LETTER,
            language=Language.ENGLISH,
            body="Dear ...",
            idempotency_key=unique_ref("L"),
            created_at=datetime.now(UTC),
        )
        session.add(letter)
    assert letter.id is not None
    admin = Actor(id="admin-1", roles=frozenset({Role.ADMIN}), region="Yorkshire and the Humber")
    assert mark_posted(app, admin, [letter.id]) == 1
    nobody = Actor(id="nobody-1", roles=frozenset(), region="Wales")
    with pytest.raises(Refused):  # and the refusal is logged, by the app role
        checked(app, nobody, Action.MARK_POSTED)
    with session_scope(database.owner) as session:
        assert session.exec(select(AccessRefusal.actor)).all() == ["nobody-1"]

    # Nothing else: the worker's writes stay the worker's.
    for statement in (
        f"UPDATE offendercase SET region = 'Wales' WHERE id = {case_id}",
        f"DELETE FROM victim WHERE id = {victim_id}",
        f"UPDATE correspondence SET body = 'x' WHERE id = {letter.id}",
        "DELETE FROM casenote",
        "DELETE FROM vlotask",
        "INSERT INTO auditseal (case_id, sequence, entry_id, mac, sealed_at) "
        f"VALUES ({case_id}, 1, 1, 'x', now())",
    ):
        refused(app, statement)

    # The app held no key: its entries await their seals, which the worker's job adds.
    with session_scope(database.owner) as session:
        entries = len(session.exec(select(AuditEntry).where(AuditEntry.case_id == case_id)).all())
        assert session.exec(select(AuditSeal)).all() == []
    result = export_heads(database.worker, DEVELOPMENT_AUDIT_KEY, tmp_path, datetime.now(UTC))
    assert result.sealed == entries and result.exported == 1
    with session_scope(database.owner) as session:
        report = verify_chain(session, case_id, DEVELOPMENT_AUDIT_KEY)
    assert report.intact and report.sealed == report.entries == entries


def test_the_owners_login_can_rewrite_but_not_reseal(
    database: Database, app_without_key: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one login that may still UPDATE the trail (the tables' owner, for migrations)
    rewrites an entry and recomputes every plain SHA-256 hash after it: the worker's seals,
    keyed with what the owner does not hold, show it."""
    _case_ref, case_id, _ = registered_by_app(database)
    monkeypatch.setenv("VCS_DEVELOPMENT", "1")  # the worker's key: its entry seals all three
    with session_scope(database.worker) as session:
        append_audit(session, case_id=case_id, actor="system", action="note")
    target = entry_ids(database.owner, case_id)[1]
    rewrite_from(database.owner, case_id, target)
    with session_scope(database.owner) as session:
        assert verify_chain(session, case_id).intact  # plain hashes: fooled
        broken = verify_chain(session, case_id, DEVELOPMENT_AUDIT_KEY).broken
    assert broken is not None and (broken.entry_id, broken.sequence) == (target, 2)
    assert "does not match its seal" in broken.problem
