"""Information sharing (models/sharing.py; MAPPA MoU 001_272af33299f517c0.txt, CJA 2003 s 325;
domain.md 'Victim data') and domestic homicide reviews (DVCVA 2004 s 9)."""

from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

import starter
from models.audit_chain import verify_chain
from models.case_repository import register_case
from models.db import session_scope
from models.errors import VcsError
from models.records import AuditEntry, CaseNote
from models.sharing import (
    Disclosure,
    DisclosureItem,
    DisclosureRequest,
    InformationCategory,
    ItemSource,
    LawfulBasis,
    OnwardConsent,
    RecipientKind,
    SuppliedRequest,
)
from models.sharing_repository import disclose, disclosures_of, record_supplied
from models.victim_repository import add_victim
from models.vocabulary import TaskKind
from models.working_days import london_date, london_today
from service.actor import Role
from service.vcs import Vcs
from tests.cli_harness import count
from tests.conftest import unique_ref
from tests.helpers import (
    VLO_ACTOR,
    audit_facts,
    eventually,
    registration,
    run_until,
    tasks,
    victim,
    vlo_actor,
)
from worker import build_worker

C = InformationCategory
POLICE = "West Yorkshire Police"
HOSPITAL = "Rampton Hospital managers"


def case_and_victim(engine: Engine, *, mappa: bool = True) -> tuple[str, int, int]:
    case_ref = unique_ref("SHR")
    reg = registration(case_ref, datetime.now(UTC).date() - timedelta(days=30))
    if mappa:
        reg = reg.model_copy(update={"mappa_category": 2, "mappa_level": 2})
    case = register_case(engine, reg, "vlo.jones").case
    row = add_victim(engine, case_ref, victim(), "vlo.jones")
    assert case.id is not None and row.id is not None
    return case_ref, case.id, row.id


def request(**fields: object) -> DisclosureRequest:
    base: dict[str, object] = {
        "recipient_agency": POLICE,
        "recipient_kind": RecipientKind.POLICE,
        "lawful_basis": LawfulBasis.CJA_S325_MAPPA,
        "purpose": "MAPPA level 2 risk management meeting",
        "own_categories": [C.LICENCE_CONDITIONS],
    }
    base.update(fields)
    return DisclosureRequest(**base)  # type: ignore[arg-type]


def audit_count(engine: Engine, case_id: int) -> int:
    return count(engine, AuditEntry, AuditEntry.case_id == case_id)


def refused(engine: Engine, case_ref: str, case_id: int, req: DisclosureRequest) -> str:
    """The disclosure is refused and nothing at all is recorded."""
    before = audit_count(engine, case_id)
    with pytest.raises(VcsError) as err:
        disclose(engine, case_ref, req, "vlo.jones")
    assert count(engine, Disclosure) == 0 and count(engine, DisclosureItem) == 0
    assert audit_count(engine, case_id) == before
    message = str(err.value)
    assert message.startswith("disclosure refused: ")
    return message


def test_no_lawful_basis_is_refused(engine: Engine) -> None:
    """MoU: sharing must have lawful authority."""
    case_ref, case_id, _ = case_and_victim(engine)
    message = refused(engine, case_ref, case_id, request(lawful_basis=None))
    assert "no lawful basis" in message and "001_272af33299f517c0.txt" in message


def test_empty_purpose_is_refused(engine: Engine) -> None:
    """MoU: sharing must be necessary and accountable: a purpose is recorded."""
    case_ref, case_id, _ = case_and_victim(engine)
    message = refused(engine, case_ref, case_id, request(purpose="   "))
    assert "no purpose" in message


def test_nothing_to_the_offender_or_their_representative(engine: Engine) -> None:
    """MoU: requests by an offender or their legal representative go to the MAPPP chair;
    domain.md 'Victim data': a victim's address must never reach the offender."""
    case_ref, case_id, _ = case_and_victim(engine)
    for kind in (RecipientKind.OFFENDER, RecipientKind.OFFENDER_REPRESENTATIVE):
        message = refused(
            engine,
            case_ref,
            case_id,
            request(recipient_agency="Smith & Co solicitors", recipient_kind=kind),
        )
        assert "offender" in message and "MAPPP chair" in message


def test_victim_address_only_to_hospital_managers_or_with_consent(engine: Engine) -> None:
    """domain.md 'Victim data': the address leaves only under s 36A / s 42A (to hospital
    managers) or with the victim's consent."""
    case_ref, case_id, victim_id = case_and_victim(engine)
    address = [C.VICTIM_NAME, C.VICTIM_ADDRESS]
    message = refused(
        engine, case_ref, case_id, request(own_categories=address, victim_id=victim_id)
    )
    assert "address" in message and "domain.md 'Victim data'" in message
    # s 36A is for hospital managers only; consent without a recorded consent is no consent.
    refused(
        engine,
        case_ref,
        case_id,
        request(own_categories=address, victim_id=victim_id, lawful_basis=LawfulBasis.DVCVA_S36A),
    )
    refused(
        engine,
        case_ref,
        case_id,
        request(
            own_categories=address, victim_id=victim_id, lawful_basis=LawfulBasis.VICTIM_CONSENT
        ),
    )
    # Hospital managers under s 36A: allowed.
    first = disclose(
        engine,
        case_ref,
        request(
            recipient_agency=HOSPITAL,
            recipient_kind=RecipientKind.HOSPITAL_MANAGERS,
            lawful_basis=LawfulBasis.DVCVA_S36A,
            purpose="DVCVA s 36A notification",
            own_categories=[*address, C.VICTIM_REPRESENTATIONS],
            victim_id=victim_id,
        ),
        "vlo.jones",
    )
    # The victim's recorded consent: allowed.
    second = disclose(
        engine,
        case_ref,
        request(
            recipient_agency="Victim Support Leeds",
            recipient_kind=RecipientKind.VICTIM_SERVICES,
            lawful_basis=LawfulBasis.VICTIM_CONSENT,
            purpose="referral for support, at the victim's request",
            own_categories=address,
            victim_id=victim_id,
            victim_consent_ref="consent form 2026-11-01, signed",
        ),
        "vlo.jones",
    )
    records = disclosures_of(engine, case_ref)
    assert [r.disclosure.id for r in records] == [first, second]
    assert {i.category for i in records[0].items} == {*address, C.VICTIM_REPRESENTATIONS}
    assert all(i.source is ItemSource.OWN for r in records for i in r.items)


def test_victim_information_must_name_a_victim_of_the_case(engine: Engine) -> None:
    case_ref, case_id, _ = case_and_victim(engine)
    _, _, other_victim = case_and_victim(engine)
    hospital = {
        "recipient_agency": HOSPITAL,
        "recipient_kind": RecipientKind.HOSPITAL_MANAGERS,
        "lawful_basis": LawfulBasis.DVCVA_S42A,
        "own_categories": [C.VICTIM_ADDRESS],
    }
    assert "name the victim" in refused(engine, case_ref, case_id, request(**hospital))
    message = refused(engine, case_ref, case_id, request(**hospital, victim_id=other_victim))
    assert f"victim {other_victim} is not a victim of case" in message


def test_s325_only_for_mappa_cases(engine: Engine) -> None:
    """CJA 2003 s 325 / MoU: the duty to co-operate covers MAPPA offenders only."""
    case_ref, case_id, _ = case_and_victim(engine, mappa=False)
    assert "not a MAPPA case" in refused(engine, case_ref, case_id, request())
    disclose(engine, case_ref, request(lawful_basis=LawfulBasis.COURT_ORDER), "vlo.jones")


def test_another_agencys_information_needs_its_written_consent_for_this_recipient(
    engine: Engine,
) -> None:
    """MoU: information shared must not be disclosed to any third party without the written
    consent of the agency that provided it."""
    case_ref, case_id, _ = case_and_victim(engine)
    today = london_today()
    no_consent = record_supplied(
        engine,
        case_ref,
        SuppliedRequest(
            supplying_agency="Leeds City Council housing",
            category=C.RISK_INFORMATION,
            received_on=today,
        ),
        "vlo.jones",
    )
    consented = record_supplied(
        engine,
        case_ref,
        SuppliedRequest(
            supplying_agency="NHS Leeds",
            category=C.RISK_INFORMATION,
            received_on=today,
            onward_consent=OnwardConsent.NAMED_AGENCIES,
            consented_agencies=["west yorkshire  police"],
            written_consent_ref="letter NHS/2026/17",
        ),
        "vlo.jones",
    )
    message = refused(engine, case_ref, case_id, request(supplied_ids=[no_consent]))
    assert "Leeds City Council housing" in message and "written consent" in message
    # Consent to the police is not consent to the prison.
    refused(
        engine,
        case_ref,
        case_id,
        request(
            recipient_agency="HMP Leeds",
            recipient_kind=RecipientKind.PRISON,
            supplied_ids=[consented],
        ),
    )
    # Mixed: one item without consent refuses the whole disclosure.
    refused(engine, case_ref, case_id, request(supplied_ids=[consented, no_consent]))

    before = audit_count(engine, case_id)
    disclosure_id = disclose(engine, case_ref, request(supplied_ids=[consented]), "vlo.jones")
    # Back to the agency that supplied it: not a third party.
    disclose(
        engine,
        case_ref,
        request(
            recipient_agency="Leeds City Council Housing",
            recipient_kind=RecipientKind.LOCAL_AUTHORITY,
            supplied_ids=[no_consent],
            own_categories=[],
        ),
        "vlo.jones",
    )
    [first, _] = disclosures_of(engine, case_ref)
    assert first.disclosure.id == disclosure_id
    sources = {(i.category, i.source, i.supplied_id) for i in first.items}
    assert sources == {
        (C.LICENCE_CONDITIONS, ItemSource.OWN, None),
        (C.RISK_INFORMATION, ItemSource.SUPPLIED, consented),
    }
    # Every allowed disclosure is in the audit chain, which still verifies.
    assert audit_count(engine, case_id) == before + 2
    with session_scope(engine) as session:
        details = session.exec(
            select(AuditEntry.detail)
            .where(AuditEntry.case_id == case_id, AuditEntry.action == "information_disclosed")
            .order_by(col(AuditEntry.id))
        ).all()
        assert audit_facts(details[0]) == {
            "disclosure": disclosure_id,
            "recipient_kind": "police",
            "basis": first.disclosure.lawful_basis.value,
            "supplied": [consented],
        }
        assert verify_chain(session, case_id).intact


def test_supplied_information_consent_must_be_written_and_name_agencies(engine: Engine) -> None:
    case_ref, _case_id, _ = case_and_victim(engine)
    today = london_today()
    base = {"supplying_agency": "NHS Leeds", "category": C.RISK_INFORMATION, "received_on": today}
    bad = [
        SuppliedRequest(**base, onward_consent=OnwardConsent.NAMED_AGENCIES),  # type: ignore[arg-type]
        SuppliedRequest(
            **base,  # type: ignore[arg-type]
            onward_consent=OnwardConsent.NAMED_AGENCIES,
            consented_agencies=["West Yorkshire Police"],
        ),
        SuppliedRequest(**{**base, "received_on": today + timedelta(days=2)}),  # type: ignore[arg-type]
    ]
    for item in bad:
        with pytest.raises(VcsError):
            record_supplied(engine, case_ref, item, "vlo.jones")
    assert count(engine, AuditEntry, AuditEntry.action == "information_received") == 0


async def test_cli_sharing_commands(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    case_ref, _case_id, victim_id = case_and_victim(engine)
    vcs = Vcs(cast(Client, None), engine)
    lines: list[str] = []

    async def run(*argv: str) -> int:
        lines.clear()
        capsys.readouterr()
        return await starter.run(list(argv), vcs=vcs, out=lines.append)

    assert await run(
        "record-supplied", "--case", case_ref, "--agency", "NHS Leeds",
        "--category", "risk_information", "--received-on", "2026-01-10",
        "--consent", "named_agencies", "--consent-to", POLICE, "--consent-ref", "NHS/17",
    ) == 0  # fmt: skip
    assert lines == ["supplied information 1 recorded"]
    disclose_args = [
        "disclose", "--case", case_ref, "--to", POLICE, "--recipient-kind", "police",
        "--purpose", "MAPPA meeting", "--share", "licence_conditions", "--supplied", "1",
    ]  # fmt: skip
    assert await run(*disclose_args) == 2  # no --basis
    err = capsys.readouterr().err
    assert err.startswith("error: disclosure refused: no lawful basis") and err.count("\n") == 1
    assert await run(*disclose_args, "--basis", "cja2003_s325") == 0
    assert lines == ["disclosure 1 recorded and audited"]
    assert await run(
        "disclose", "--case", case_ref, "--to", "Defence solicitor",
        "--recipient-kind", "offender_representative", "--basis", "court_order",
        "--purpose", "asked", "--share", "victim_address", "--victim", str(victim_id),
    ) == 2  # fmt: skip
    assert "offender" in capsys.readouterr().err
    assert await run("disclosures", "--case", case_ref) == 0
    [line] = lines
    assert line.startswith("disclosure 1: ") and f"to {POLICE} (police) under cja2003_s325" in line
    assert "licence_conditions, risk_information (supplied 1)" in line


# ---- domestic homicide reviews (DVCVA 2004 s 9) --------------------------------------------


@pytest.mark.usefixtures("cleanup_workflows")
async def test_dhr_direction_opens_a_task_that_escalates_when_overdue(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """DVCVA 2004 s 9 applies to every provider (000_5a1d5e000983110f.txt): the direction is
    audited and a VLO task falls due on the date given, escalating like any task."""
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref("DHR")
    due = today + timedelta(days=20)
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(
            registration(case_ref, today - timedelta(days=30), provider="CRC"), actor=VLO_ACTOR
        )
        with pytest.raises(VcsError, match="before it was directed"):
            await vcs.record_dhr_direction(
                case_ref,
                "Leeds CSP",
                today,
                today - timedelta(1),
                vlo_actor("v.x", role=Role.VLO_MANAGER),
            )
        with pytest.raises(VcsError, match="in the future"):
            await vcs.record_dhr_direction(
                case_ref,
                "Leeds CSP",
                today + timedelta(1),
                due,
                vlo_actor("v.x", role=Role.VLO_MANAGER),
            )
        lines: list[str] = []
        code = await starter.run(
            ["dhr", "--case", case_ref, "--directed-on", str(today),
             "--due", str(due), "--reviewed-by", "Leeds Community Safety Partnership"],
            vcs=vcs, out=lines.append,
        )  # fmt: skip
        assert code == 0 and lines[0].startswith("domestic homicide review recorded: task ")
        [task] = [t for t in tasks(engine) if t.kind is TaskKind.DOMESTIC_HOMICIDE_REVIEW]
        assert task.due_on == due and task.assigned_to == "vlo.jones"
        with pytest.raises(VcsError, match="already open"):
            await vcs.record_dhr_direction(case_ref, "Leeds CSP", today, due, VLO_ACTOR)
        with session_scope(engine) as session:
            [detail] = session.exec(
                select(AuditEntry.detail).where(AuditEntry.action == "dhr_directed")
            ).all()
        facts = audit_facts(detail)
        assert (facts["directed_on"], facts["due_on"]) == (str(today), str(due))
        # Who directed it, typed by the VLO: a note the retention job erases (issue 13).
        with session_scope(engine) as session:
            note = session.get(CaseNote, facts["note"])
        assert note is not None and note.text == "directed by Leeds Community Safety Partnership"

        await run_until(env, due, extra_days=2)
        escalation = await eventually(
            lambda: [
                t
                for t in tasks(engine)
                if t.kind is TaskKind.ESCALATION and t.escalates_task_id == task.id
            ]
        )
        assert escalation[0].assigned_to == "role:senior-vlo"
        assert task.id is not None
        await vcs.complete_task(task.id, actor=VLO_ACTOR, outcome="chronology submitted")
        assert not [t for t in tasks(engine) if t.case_id == task.case_id]
