"""The hospital paths for mentally disordered offenders (DVCVA 2004 ss 36-44A; models/hospital.py,
workflows/hospital.py), end to end against a real Temporal dev server (`local_env`: these are
VLO updates, with no timer to skip), on SQLite and PostgreSQL.

Every path: s 36 hospital order with and without a restriction order, s 39 hospital direction
with a limitation direction, s 42 transfer direction with and without a restriction direction.
What a user would notice is checked: letters in the outbox, notices to the hospital managers,
Disclosure rows, representations forwarded, the case row, and the workflows' queries.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from activities.hospital import HospitalActivities
from models.case import CaseRegistration, OffenceBase, OffenderCase
from models.db import session_scope
from models.errors import VcsError
from models.hospital import (
    RESTRICTED_DECIDER,
    UNRESTRICTED_DECIDER,
    HospitalBase,
    HospitalNoticeRequest,
    RecordHospital,
    discharge_decider,
    discharge_problems,
)
from models.hospital_repository import add_hospital
from models.policy import current_policy
from models.records import AuditEntry, Correspondence, LicenceConditionBase, Representation
from models.release_month import ReleaseMonth, release_told_on
from models.sharing import Disclosure, InformationCategory, LawfulBasis, RecipientKind
from models.sharing_repository import disclosures_of
from models.vocabulary import (
    Channel,
    ConditionKind,
    ContactLevel,
    DischargeKind,
    DisposalKind,
    Finding,
    HospitalPath,
    KeyStage,
    Language,
    LetterKind,
    OffenceCategory,
    SentenceType,
    Stage,
    TaskKind,
)
from models.workflow_state import HospitalStatus
from models.working_days import london_date, london_today
from service.vcs import Vcs
from tests.cli_harness import ADDRESS, NAME, POSTCODE, Cli, add_victim, case_args, count
from tests.conftest import unique_ref
from tests.helpers import (
    VLO_ACTOR,
    audit_facts,
    eventually,
    letter_bodies,
    letters,
    offered_and_opted_in,
    registration,
    run_until,
    stage,
    tasks,
    until_quiet,
    victim,
)
from tests.test_codec import payloads_in, stored_histories
from worker import build_worker
from workflows.case import CaseWorkflow, case_workflow_id

VLO = "vlo.jones"
REPRESENTATION = "Please make sure he never comes near Ash Grove."
HOSPITAL = HospitalBase(
    name="Rampton Secure Hospital", address="Woodbeck, Retford", postcode="DN22 0PD"
)
OTHER_HOSPITAL = HospitalBase(
    name="Ashworth Hospital", address="Parkbourn, Maghull, Liverpool", postcode="L31 1HW"
)


def today() -> date:
    return london_today()


SENTENCED = today() - timedelta(days=7)  # the offer is not yet overdue
RESTRICTION_ENDS = today() + timedelta(days=500)


@pytest.fixture
async def vcs(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> AsyncIterator[Vcs]:
    async with build_worker(local_env.client, engine, task_queue):
        yield Vcs(local_env.client, engine, task_queue)


def hospital_case(
    case_ref: str,
    disposal: DisposalKind,
    *,
    restricted: bool,
    hospital_id: int | None,
    restriction_ends_on: date | None = None,
    finding: Finding = Finding.CONVICTED,
    category: OffenceCategory = OffenceCategory.SCHEDULE_15_VIOLENT,
) -> CaseRegistration:
    """A hospital order (no sentence) or a direction given with a 4-year sentence."""
    order = disposal is DisposalKind.HOSPITAL_ORDER
    return CaseRegistration(
        case_ref=case_ref,
        region="Yorkshire and the Humber",
        responsible_vlo=VLO,
        disposal=disposal,
        finding=finding,
        restricted=restricted,
        restriction_ends_on=restriction_ends_on,
        hospital_id=hospital_id,
        sentence_type=SentenceType.HOSPITAL_ORDER if order else SentenceType.IMPRISONMENT,
        term_months=None if order else 48,
        sentence_date=SENTENCED,
        conditional_release_date=None if order else SENTENCED + timedelta(days=730),
        licence_expiry_date=None if order else SENTENCED + timedelta(days=1460),
        sentence_expiry_date=None if order else SENTENCED + timedelta(days=1460),
        offences=[OffenceBase(description="Wounding with intent", category=category)],
    )


def new_hospital(engine: Engine, hospital: HospitalBase = HOSPITAL) -> int:
    row, _ = add_hospital(engine, hospital, VLO)
    assert row.id is not None
    return row.id


async def registered_patient(
    vcs: Vcs,
    prefix: str,
    disposal: DisposalKind,
    *,
    restricted: bool,
    restriction_ends_on: date | None = None,
    finding: Finding = Finding.CONVICTED,
) -> tuple[str, int]:
    """A hospital case registered as detained in a new hospital: (case reference, hospital)."""
    hospital_id = new_hospital(vcs.engine)
    case_ref = unique_ref(prefix)
    registration = hospital_case(
        case_ref,
        disposal,
        restricted=restricted,
        hospital_id=hospital_id,
        restriction_ends_on=restriction_ends_on,
        finding=finding,
    )
    await vcs.register_case(registration, actor=VLO_ACTOR)
    return case_ref, hospital_id


async def discharge_held(vcs: Vcs, victim_id: int) -> None:
    """A discharge is told as a release is: the month only, on the first working day of the
    next month (models/release_month.py). On the real clock the letter is seen held, not sent."""
    told_on = release_told_on(ReleaseMonth.of(today()), today(), current_policy().bank_holidays)
    for _ in range(100):
        view = await vcs.victim_view(victim_id, VLO_ACTOR)
        if any(s.on == told_on and LetterKind.DISCHARGED.value in s.what for s in view.scheduled):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"no discharge letter held until {told_on}: {view.scheduled}")
    assert LetterKind.DISCHARGED not in victim_letters(vcs.engine, victim_id)


async def opted_in_victim(vcs: Vcs, case_ref: str, level: ContactLevel) -> int:
    victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=VLO_ACTOR)
    await offered_and_opted_in(vcs, vcs.engine, victim_id, level)
    return victim_id


def victim_letters(engine: Engine, victim_id: int) -> list[LetterKind]:
    """The letters to the victim (the outbox also holds the notices about them to hospitals)."""
    return [k for k in letters(engine, victim_id) if k is not LetterKind.HOSPITAL_NOTICE]


def notices(engine: Engine, victim_id: int) -> list[str]:
    """The bodies of the notices to hospital managers about this victim (s 36A / s 42A)."""
    return letter_bodies(engine, victim_id, LetterKind.HOSPITAL_NOTICE)


def shared(
    engine: Engine, case_ref: str
) -> list[tuple[str, LawfulBasis, set[InformationCategory]]]:
    """Each disclosure of the case: to whom, under what, which categories."""
    return [
        (r.disclosure.recipient_agency, r.disclosure.lawful_basis, {i.category for i in r.items})
        for r in disclosures_of(engine, case_ref)
    ]


def forwarded_to(engine: Engine, victim_id: int) -> list[str | None]:
    with session_scope(engine) as session:
        return [
            r.forwarded_to
            for r in session.exec(
                select(Representation)
                .where(Representation.victim_id == victim_id)
                .order_by(col(Representation.id))
            ).all()
        ]


def case_row(engine: Engine, case_ref: str) -> OffenderCase:
    with session_scope(engine) as session:
        row = session.exec(select(OffenderCase).where(OffenderCase.case_ref == case_ref)).one()
        return row


def victim_related(description: str, **extra: object) -> LicenceConditionBase:
    return LicenceConditionBase(
        kind=ConditionKind.NO_CONTACT,
        description=description,
        victim_related=True,
        starts_on=today(),
        **extra,  # type: ignore[arg-type]
    )


async def decoded_history(vcs: Vcs, workflow_id: str) -> str:
    """Every payload of every run of the workflow, decrypted: what the workflow itself holds."""
    codec = vcs.client.data_converter.payload_codec
    assert codec is not None
    texts = []
    for history in await stored_histories(vcs.client, workflow_id):
        decoded = await codec.decode([payload for _, payload in payloads_in(history)])
        texts += [payload.data.decode("utf-8", errors="replace") for payload in decoded]
    return "\n".join(texts)


NAME_AND_ADDRESS = {InformationCategory.VICTIM_NAME, InformationCategory.VICTIM_ADDRESS}
WITH_REPRESENTATIONS = NAME_AND_ADDRESS | {InformationCategory.VICTIM_REPRESENTATIONS}


# ---- s 36 hospital order with a restriction order (ss 36, 36A, 37, 38) --------------------------


async def test_s36_restricted_order_notifies_the_managers_and_forwards_to_the_secretary_of_state(
    vcs: Vcs, engine: Engine
) -> None:
    case_ref, hospital_id = await registered_patient(
        vcs, "H36R", DisposalKind.HOSPITAL_ORDER, restricted=True
    )
    victim_id = await opted_in_victim(vcs, case_ref, ContactLevel.ALL_KEY_STAGES)

    # The hospital paths' offer, then s 36A: the victim is told the hospital's name and address.
    assert victim_letters(engine, victim_id)[:3] == [
        LetterKind.HOSPITAL_OFFER,
        LetterKind.OPT_IN_CONFIRMED,
        LetterKind.HOSPITAL_DETAILS,
    ]
    [details] = letter_bodies(engine, victim_id, LetterKind.HOSPITAL_DETAILS)
    assert "Rampton Secure Hospital" in details and "Woodbeck, Retford" in details
    # ... and the hospital managers the victim's name and address, recorded as a disclosure.
    [notice] = notices(engine, victim_id)
    assert "Alice Example" in notice and "1 Test Street, Leeds" in notice
    assert "section 36A" in notice and "Rampton Secure Hospital" in notice
    assert shared(engine, case_ref) == [
        ("managers of Rampton Secure Hospital", LawfulBasis.DVCVA_S36A, NAME_AND_ADDRESS)
    ]
    [record] = disclosures_of(engine, case_ref)
    assert record.disclosure.recipient_kind is RecipientKind.HOSPITAL_MANAGERS
    assert record.disclosure.victim_id == victim_id and record.disclosure.disclosed_at
    assert count(engine, AuditEntry, col(AuditEntry.action) == "information_disclosed") == 1

    # s 37: representations about discharge go to the Secretary of State / tribunal while the
    # restriction order is in force; s 36A: the managers are told them too.
    result = await vcs.submit_representations(victim_id, REPRESENTATION, actor=VLO_ACTOR)
    assert RESTRICTED_DECIDER in result.message
    assert forwarded_to(engine, victim_id) == [RESTRICTED_DECIDER]
    assert LetterKind.DISCHARGE_REPRESENTATIONS_RECEIVED in victim_letters(engine, victim_id)
    assert LetterKind.REPRESENTATIONS_RECEIVED not in victim_letters(engine, victim_id)
    assert REPRESENTATION in notices(engine, victim_id)[1]
    assert shared(engine, case_ref)[1][2] == {
        InformationCategory.VICTIM_NAME,
        InformationCategory.VICTIM_REPRESENTATIONS,
    }

    # s 38: conditions of discharge about contact with the victim are told, as such.
    await vcs.record_conditions(
        case_ref,
        [victim_related("Not to enter Ash Grove", ends_on=today() + timedelta(days=90))],
        actor=VLO_ACTOR,
    )
    await eventually(lambda: LetterKind.DISCHARGE_CONDITIONS in victim_letters(engine, victim_id))
    [conditions] = letter_bodies(engine, victim_id, LetterKind.DISCHARGE_CONDITIONS)
    assert "discharge from hospital" in conditions and "Not to enter Ash Grove" in conditions
    assert LetterKind.CONDITIONS_IMPOSED not in victim_letters(engine, victim_id)

    # A restricted patient is conditionally discharged (MHA s 42(2)); not on a CTO (s 17A).
    with pytest.raises(VcsError, match="community treatment order is for unrestricted"):
        await vcs.record_discharge(
            case_ref, DischargeKind.COMMUNITY_TREATMENT_ORDER, today(), actor=VLO_ACTOR
        )
    await vcs.record_discharge(case_ref, DischargeKind.CONDITIONAL, today(), actor=VLO_ACTOR)
    await discharge_held(vcs, victim_id)

    # Exactly once: two notices, two disclosures, whatever was replayed; the victim in scheme.
    assert len(notices(engine, victim_id)) == 2 and len(shared(engine, case_ref)) == 2
    assert stage(engine, victim_id) is Stage.OPTED_IN
    view = await vcs.victim_view(victim_id, VLO_ACTOR)
    assert view.hospital is not None and view.hospital.path is HospitalPath.S36_RESTRICTED

    # Workflows carry IDs only: no name, address, words, nor the hospital's name, even decoded.
    for workflow_id in (case_workflow_id(case_ref),):
        history = await decoded_history(vcs, workflow_id)
        assert f'"hospital_id":{hospital_id}' in history  # decoded: the ID is there
        for secret in ("Alice Example", "1 Test Street", REPRESENTATION, "Rampton", "Ash Grove"):
            assert secret not in history, f"{secret!r} in the history of {workflow_id}"


async def test_hospital_notice_is_made_exactly_once_however_often_it_is_retried(
    vcs: Vcs, engine: Engine
) -> None:
    """Every outbound effect has an idempotency key: a retried notice activity finds the one
    already made and changes nothing (one Disclosure, one outbox row, one audit entry)."""
    case_ref, hospital_id = await registered_patient(
        vcs, "HIDEM", DisposalKind.HOSPITAL_ORDER, restricted=False
    )
    victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=VLO_ACTOR)
    case_id = case_row(engine, case_ref).id
    assert case_id is not None
    request = HospitalNoticeRequest(
        idempotency_key=f"test:{case_ref}:notice",
        case_id=case_id,
        victim_id=victim_id,
        hospital_id=hospital_id,
        basis=LawfulBasis.DVCVA_S36A,
        by=VLO,
        reason="retry test",
    )
    activities = HospitalActivities(engine)
    for _ in range(3):
        activities.notify_hospital_managers(request)
    assert len(notices(engine, victim_id)) == 1
    assert len(shared(engine, case_ref)) == 1
    assert count(engine, AuditEntry, col(AuditEntry.action) == "information_disclosed") == 1


async def test_stale_hospital_notice_is_skipped_and_records_nothing(
    vcs: Vcs, engine: Engine
) -> None:
    """A notice for a hospital the patient has left, or on a path the case has left, is stale:
    the victim's name and address go nowhere, no Disclosure, no outbox row, and it says so."""
    first, second = new_hospital(engine), new_hospital(engine, OTHER_HOSPITAL)
    case_ref = unique_ref("HSTALE")
    await vcs.register_case(
        hospital_case(case_ref, DisposalKind.HOSPITAL_ORDER, restricted=False, hospital_id=second),
        actor=VLO_ACTOR,
    )
    victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=VLO_ACTOR)
    case_id = case_row(engine, case_ref).id
    assert case_id is not None
    activities = HospitalActivities(engine)
    for hospital_id, basis in [(first, LawfulBasis.DVCVA_S36A), (second, LawfulBasis.DVCVA_S42A)]:
        outcome = activities.notify_hospital_managers(
            HospitalNoticeRequest(
                idempotency_key=f"test:{case_ref}:{hospital_id}",
                case_id=case_id,
                victim_id=victim_id,
                hospital_id=hospital_id,
                basis=basis,
                by=VLO,
                reason="stale test",
            )
        )
        assert not outcome.sent and outcome.reason.startswith("stale")
    assert notices(engine, victim_id) == [] and shared(engine, case_ref) == []
    assert count(engine, AuditEntry, col(AuditEntry.action) == "information_disclosed") == 0


async def test_hospital_details_letter_says_only_what_the_managers_were_given(
    vcs: Vcs, engine: Engine
) -> None:
    """s 36A / s 42A: the letter tells the victim what the hospital managers were given; with
    no postal address held, it does not claim an address was given (EN and CY)."""
    case_ref, _ = await registered_patient(
        vcs, "HWORDS", DisposalKind.HOSPITAL_ORDER, restricted=True
    )
    english, _ = await vcs.add_victim(
        case_ref,
        victim(
            address=None,
            postcode=None,
            email="alice@example.org",
            preferred_channel=Channel.EMAIL,
        ),
        actor=VLO_ACTOR,
    )
    welsh, _ = await vcs.add_victim(
        case_ref,
        victim(
            "Bethan Example",
            address=None,
            postcode=None,
            email="bethan@example.org",
            preferred_channel=Channel.EMAIL,
            language=Language.WELSH,
        ),
        actor=VLO_ACTOR,
    )
    addressed = await opted_in_victim(vcs, case_ref, ContactLevel.ALL_KEY_STAGES)
    for victim_id in (english, welsh):
        await offered_and_opted_in(vcs, engine, victim_id, ContactLevel.ALL_KEY_STAGES)
    [words] = letter_bodies(engine, english, LetterKind.HOSPITAL_DETAILS)
    assert "your name and the email address or phone number you gave us (" in words
    assert "address and" not in words and "your address" not in words
    [cymraeg] = letter_bodies(engine, welsh, LetterKind.HOSPITAL_DETAILS)
    assert "rhoi eich enw ac eich e-bost neu'ch rhif ffôn i reolwyr" in cymraeg
    assert "cyfeiriad" not in cymraeg.split("Fel y mae")[1].split("(Deddf")[0]
    [full] = letter_bodies(engine, addressed, LetterKind.HOSPITAL_DETAILS)
    assert "given the hospital managers your name and your address (" in full


async def test_tribunal_application_and_restriction_varied_then_lifted_are_told_to_victims(
    vcs: Vcs, engine: Engine
) -> None:
    """DVCVA s 37(4)-(7) (ss 43, 44 for a restriction direction): a tribunal application, the
    restriction's end date varied, and the restriction lifted are each told to the victim in
    the scheme; representations follow whoever decides discharge (s 37(3): the Secretary of
    State or the tribunal only while the restriction is in force)."""
    case_ref, _ = await registered_patient(
        vcs,
        "HLIFT",
        DisposalKind.TRANSFER_DIRECTION,
        restricted=True,
        restriction_ends_on=RESTRICTION_ENDS,
    )
    victim_id = await opted_in_victim(vcs, case_ref, ContactLevel.ANNUAL)

    result = await vcs.record_tribunal_application(case_ref, today(), actor=VLO_ACTOR)
    assert "s 37(7)" in result.message
    await eventually(lambda: LetterKind.TRIBUNAL_APPLICATION in victim_letters(engine, victim_id))
    [told] = letter_bodies(engine, victim_id, LetterKind.TRIBUNAL_APPLICATION)
    assert "Mental Health Tribunal" in told and "views" in told
    assert count(engine, AuditEntry, col(AuditEntry.action) == "tribunal_application") == 1

    varied = today() + timedelta(days=800)
    await vcs.record_restriction_change(case_ref, today(), actor=VLO_ACTOR, ends_on=varied)
    await eventually(lambda: LetterKind.RESTRICTION_VARIED in victim_letters(engine, victim_id))
    [told] = letter_bodies(engine, victim_id, LetterKind.RESTRICTION_VARIED)
    assert f"ceases in {varied:%B %Y}" in told
    assert case_row(engine, case_ref).restriction_ends_on == varied
    await vcs.submit_representations(victim_id, REPRESENTATION, actor=VLO_ACTOR)

    result = await vcs.record_restriction_change(case_ref, today(), actor=VLO_ACTOR, lifted=True)
    assert UNRESTRICTED_DECIDER in result.message
    await eventually(lambda: LetterKind.RESTRICTION_LIFTED in victim_letters(engine, victim_id))
    assert case_row(engine, case_ref).restriction_ends_on == today()
    await vcs.submit_representations(victim_id, "Later views", actor=VLO_ACTOR)
    assert forwarded_to(engine, victim_id) == [RESTRICTED_DECIDER, UNRESTRICTED_DECIDER]
    assert count(engine, AuditEntry, col(AuditEntry.action) == "restriction_lifted") == 1

    # Nothing left to lift or vary; the tribunal no longer tells the probation body (s 37(5)).
    sent = victim_letters(engine, victim_id)
    with pytest.raises(VcsError, match="no restriction direction is in force"):
        await vcs.record_restriction_change(case_ref, today(), actor=VLO_ACTOR, lifted=True)
    with pytest.raises(VcsError, match=r"s 37\(5\)"):
        await vcs.record_tribunal_application(case_ref, today(), actor=VLO_ACTOR)
    with pytest.raises(VcsError, match="not both"):
        await vcs.record_restriction_change(
            case_ref, today(), actor=VLO_ACTOR, lifted=True, ends_on=varied
        )
    assert victim_letters(engine, victim_id) == sent


# ---- s 36 hospital order without a restriction order (ss 36, 36A, 37A, 38A) ----------------------


async def test_s36_unrestricted_hospital_order_forwards_to_the_responsible_clinician(
    vcs: Vcs, engine: Engine
) -> None:
    """ss 37A, 38A: the responsible clinician decides discharge and CTO conditions; they get the
    representations through the hospital managers. A not-guilty-by-insanity finding qualifies."""
    case_ref, _ = await registered_patient(
        vcs,
        "H36U",
        DisposalKind.HOSPITAL_ORDER,
        restricted=False,
        finding=Finding.NOT_GUILTY_INSANITY,
    )
    victim_id = await opted_in_victim(vcs, case_ref, ContactLevel.RELEASE_ONLY)
    assert shared(engine, case_ref) == [
        ("managers of Rampton Secure Hospital", LawfulBasis.DVCVA_S36A, NAME_AND_ADDRESS)
    ]
    await vcs.submit_representations(victim_id, REPRESENTATION, actor=VLO_ACTOR)
    assert forwarded_to(engine, victim_id) == [UNRESTRICTED_DECIDER]

    with pytest.raises(VcsError, match="conditional discharge is for restricted patients"):
        await vcs.record_discharge(case_ref, DischargeKind.CONDITIONAL, today(), actor=VLO_ACTOR)
    await vcs.record_conditions(
        case_ref, [victim_related("No contact with the victim")], actor=VLO_ACTOR
    )
    await vcs.record_discharge(
        case_ref, DischargeKind.COMMUNITY_TREATMENT_ORDER, today(), actor=VLO_ACTOR
    )
    await discharge_held(vcs, victim_id)
    assert LetterKind.DISCHARGE_CONDITIONS in victim_letters(engine, victim_id)


async def test_absolute_discharge_ends_the_order_and_the_scheme(vcs: Vcs, engine: Engine) -> None:
    case_ref, hospital_id = await registered_patient(
        vcs, "HABS", DisposalKind.HOSPITAL_ORDER, restricted=False, finding=Finding.UNDER_DISABILITY
    )
    victim_id = await opted_in_victim(vcs, case_ref, ContactLevel.ANNUAL)
    result = await vcs.record_discharge(case_ref, DischargeKind.ABSOLUTE, today(), actor=VLO_ACTOR)
    assert "closed" in result.message
    await eventually(lambda: stage(engine, victim_id) is Stage.CLOSED)
    await discharge_held(vcs, victim_id)  # the workflow stays to send it, then ends
    assert LetterKind.SCHEME_ENDED not in victim_letters(engine, victim_id)  # licence wording
    assert tasks(engine, victim_id) == []
    with session_scope(engine) as session:
        closed = session.exec(
            select(AuditEntry.detail).where(AuditEntry.action == "hospital_discharge")
        ).all()
    assert [audit_facts(d) for d in closed] == [
        {"kind": "absolute", "hospital": hospital_id, "on": str(today())}
    ]


@pytest.mark.usefixtures("cleanup_workflows")
async def test_discharge_conditions_ending_are_told_when_they_end(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """ss 38A, 44A: a victim is told when conditions about contact with them end. They run from
    the discharge (a patient has no release), and the end is told on a timer: the first working
    day of the month after (models/release_month.py; the letter names the month only)."""
    env = time_skipping_env
    now = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    hospital_id = new_hospital(engine)
    case_ref = unique_ref("HEND")
    reg = hospital_case(
        case_ref, DisposalKind.HOSPITAL_ORDER, restricted=False, hospital_id=hospital_id
    )
    ends = now + timedelta(days=60)
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg.model_copy(update={"sentence_date": now}), actor=VLO_ACTOR)
        victim_id = await opted_in_victim(vcs, case_ref, ContactLevel.RELEASE_ONLY)
        await vcs.record_conditions(
            case_ref,
            [
                LicenceConditionBase(
                    kind=ConditionKind.EXCLUSION_ZONE,
                    description="Not to enter Ash Grove",
                    victim_related=True,
                    starts_on=now,
                    ends_on=ends,
                )
            ],
            actor=VLO_ACTOR,
        )
        await eventually(
            lambda: LetterKind.DISCHARGE_CONDITIONS in victim_letters(engine, victim_id)
        )
        [told] = letter_bodies(engine, victim_id, LetterKind.DISCHARGE_CONDITIONS)
        assert f"until {ends:%B %Y}" in told
        await vcs.record_discharge(
            case_ref, DischargeKind.COMMUNITY_TREATMENT_ORDER, now, actor=VLO_ACTOR
        )
        await run_until(
            env,
            release_told_on(ReleaseMonth.of(now), now, current_policy().bank_holidays),
            extra_days=0,
        )
        await eventually(lambda: LetterKind.DISCHARGED in victim_letters(engine, victim_id))
        [discharged] = letter_bodies(engine, victim_id, LetterKind.DISCHARGED)
        assert f"community treatment order in {now:%B %Y}" in discharged
        assert "ceases" not in discharged  # no restriction to end
        ended_told = release_told_on(ReleaseMonth.of(ends), ends, current_policy().bank_holidays)
        await run_until(env, ended_told - timedelta(days=1), extra_days=0)
        assert await until_quiet(env)
        assert LetterKind.DISCHARGE_CONDITION_ENDED not in victim_letters(engine, victim_id)
        await run_until(env, ended_told, extra_days=0)
        await eventually(
            lambda: LetterKind.DISCHARGE_CONDITION_ENDED in victim_letters(engine, victim_id)
        )
    [ended] = letter_bodies(engine, victim_id, LetterKind.DISCHARGE_CONDITION_ENDED)
    assert "Not to enter Ash Grove" in ended and "have now ended" in ended
    assert LetterKind.CONDITION_ENDED not in victim_letters(engine, victim_id)
    assert stage(engine, victim_id) is Stage.OPTED_IN  # the order runs on


# ---- s 39 hospital direction with a limitation direction (ss 39, 40, 41) -------------------------


async def test_s39_hospital_direction_tells_conditions_and_when_the_limitation_ends(
    vcs: Vcs, engine: Engine
) -> None:
    """s 39 has no duty to notify hospital managers (only ss 36A, 42A do): nothing of the
    victim's leaves the system. s 40: representations to the Secretary of State / tribunal.
    s 41(3): discharge conditions and the date the limitation direction ceases, as a month
    (it is the release date, which a victim is never told exactly)."""
    case_ref, _ = await registered_patient(
        vcs,
        "H39",
        DisposalKind.HOSPITAL_DIRECTION,
        restricted=True,
        restriction_ends_on=RESTRICTION_ENDS,
    )
    victim_id = await opted_in_victim(vcs, case_ref, ContactLevel.ALL_KEY_STAGES)
    assert LetterKind.HOSPITAL_DETAILS not in victim_letters(engine, victim_id)
    assert notices(engine, victim_id) == [] and shared(engine, case_ref) == []
    with pytest.raises(VcsError, match=r"hospital direction \(DVCVA s 39\)"):
        await vcs.notify_hospital(victim_id, actor=VLO_ACTOR)

    await vcs.submit_representations(victim_id, REPRESENTATION, actor=VLO_ACTOR)
    assert forwarded_to(engine, victim_id) == [RESTRICTED_DECIDER]
    assert shared(engine, case_ref) == []

    await vcs.record_conditions(
        case_ref, [victim_related("Not to contact the victim")], actor=VLO_ACTOR
    )
    await eventually(lambda: LetterKind.DISCHARGE_CONDITIONS in victim_letters(engine, victim_id))
    [told] = letter_bodies(engine, victim_id, LetterKind.DISCHARGE_CONDITIONS)
    assert "Not to contact the victim" in told
    assert f"The limitation direction ceases in {RESTRICTION_ENDS:%B %Y}." in told
    assert RESTRICTION_ENDS.isoformat() not in told and f"{RESTRICTION_ENDS.day} " not in told


async def test_when_the_limitation_ceases_is_told_by_its_month_not_its_day(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """s 41(3): the month the limitation direction ceases (the would-be release day) is in the
    letters all through that month, not only until the day: whether the line is there must not
    tell which side of the day a letter was written (domain.md 'Never disclosed to a victim')."""
    env = time_skipping_env
    now = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref("HMON")
    ends = (now + timedelta(days=100)).replace(day=15)
    reg = hospital_case(
        case_ref,
        DisposalKind.HOSPITAL_DIRECTION,
        restricted=True,
        hospital_id=new_hospital(engine),
        restriction_ends_on=ends,
    )
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg, actor=VLO_ACTOR)
        victim_id = await opted_in_victim(vcs, case_ref, ContactLevel.ALL_KEY_STAGES)
        await run_until(env, ends, extra_days=1)
        await vcs.record_conditions(
            case_ref, [victim_related("Not to contact the victim")], actor=VLO_ACTOR
        )
        await eventually(
            lambda: LetterKind.DISCHARGE_CONDITIONS in victim_letters(engine, victim_id)
        )
    [told] = letter_bodies(engine, victim_id, LetterKind.DISCHARGE_CONDITIONS)
    assert f"The limitation direction ceases in {ends:%B %Y}." in told


# ---- s 42 transfer direction (ss 42, 42A, 43, 44; ss 43A, 44A) -----------------------------------


async def test_prisoner_transferred_to_hospital_and_remitted_keeps_the_victims_choices(
    vcs: Vcs, engine: Engine
) -> None:
    """KeyStage TRANSFER_TO_HOSPITAL with a transfer direction moves the case to s 42 (restricted:
    ss 43-44); s 42A notices follow, carrying the representations made while in prison; a move
    re-notifies; remission (MHA s 50) brings it back to the custodial path. The victim's stage,
    contact level and history carry on throughout."""
    hospital_id, other_id = new_hospital(engine), new_hospital(engine, OTHER_HOSPITAL)
    case_ref = unique_ref("H42R")
    reg = registration(case_ref, SENTENCED, term_months=48)
    await vcs.register_case(reg, actor=VLO_ACTOR)
    victim_id = await opted_in_victim(vcs, case_ref, ContactLevel.ALL_KEY_STAGES)
    await vcs.submit_representations(victim_id, REPRESENTATION, actor=VLO_ACTOR)
    assert forwarded_to(engine, victim_id) == [
        "releasing authority (prison governor for the Secretary of State)"
    ]
    before = await vcs.victim_view(victim_id, VLO_ACTOR)

    # A transfer to hospital needs its direction; a plain key stage would skip the path switch.
    with pytest.raises(VcsError, match="needs its transfer direction"):
        await vcs.record_key_stage(
            case_ref, KeyStage.TRANSFER_TO_HOSPITAL, today(), actor=VLO_ACTOR
        )
    result = await vcs.record_transfer_to_hospital(
        case_ref, hospital_id, today(), True, RESTRICTION_ENDS, actor=VLO_ACTOR
    )
    assert "s 42 path" in result.message
    await eventually(lambda: LetterKind.HOSPITAL_DETAILS in victim_letters(engine, victim_id))
    assert LetterKind.KEY_STAGE in victim_letters(engine, victim_id)  # told as the key stage it is
    [notice] = notices(engine, victim_id)
    assert "section 42A" in notice and REPRESENTATION in notice
    assert shared(engine, case_ref) == [
        ("managers of Rampton Secure Hospital", LawfulBasis.DVCVA_S42A, WITH_REPRESENTATIONS)
    ]
    row = case_row(engine, case_ref)
    assert (row.disposal, row.restricted, row.hospital_id) == (
        DisposalKind.TRANSFER_DIRECTION,
        True,
        hospital_id,
    )
    during = await vcs.victim_view(victim_id, VLO_ACTOR)
    assert during.hospital is not None and during.hospital.path is HospitalPath.S42_RESTRICTED
    assert (during.stage, during.contact_level) == (before.stage, before.contact_level)
    assert during.representation_ids == before.representation_ids
    case_view = await vcs.case_view(case_ref, VLO_ACTOR)
    assert (KeyStage.TRANSFER_TO_HOSPITAL, today()) in case_view.key_stages
    # The prison's dates no longer drive the case: no release to confirm, no end by date.
    assert all("release" not in s.what for s in case_view.scheduled)

    # s 43: representations while detained go to the Secretary of State / tribunal.
    await vcs.submit_representations(victim_id, "And not near my work.", actor=VLO_ACTOR)
    assert forwarded_to(engine, victim_id)[-1] == RESTRICTED_DECIDER
    with pytest.raises(VcsError, match="hospital path: record a discharge"):
        await vcs.record_release(case_ref, today(), actor=VLO_ACTOR)

    # s 42A continuing duty: the patient moves; the new hospital's managers are notified.
    await vcs.record_hospital(case_ref, other_id, today(), actor=VLO_ACTOR)
    await eventually(lambda: len(notices(engine, victim_id)) == 3)
    assert shared(engine, case_ref)[-1] == (
        "managers of Ashworth Hospital",
        LawfulBasis.DVCVA_S42A,
        WITH_REPRESENTATIONS,
    )
    # The victim's letter follows the notice to the managers.
    details = await eventually(
        lambda: (
            (found := letter_bodies(engine, victim_id, LetterKind.HOSPITAL_DETAILS))[1:] and found
        )
    )
    assert len(details) == 2 and "Ashworth Hospital" in details[1]

    # Remitted to prison: the custodial path again, nothing of the victim's lost.
    await vcs.record_remission(case_ref, today(), actor=VLO_ACTOR)
    await eventually(lambda: LetterKind.REMITTED in victim_letters(engine, victim_id))
    after = await vcs.victim_view(victim_id, VLO_ACTOR)
    assert after.hospital is None
    assert (after.stage, after.contact_level) == (before.stage, before.contact_level)
    assert len(after.representation_ids) == 2
    row = case_row(engine, case_ref)
    assert (row.disposal, row.hospital_id) == (DisposalKind.CUSTODIAL, None)
    await vcs.record_conditions(
        case_ref, [victim_related("Not to contact the victim")], actor=VLO_ACTOR
    )
    await eventually(lambda: LetterKind.CONDITIONS_IMPOSED in victim_letters(engine, victim_id))
    with pytest.raises(VcsError, match="custodial path"):
        await vcs.notify_hospital(victim_id, actor=VLO_ACTOR)


async def test_s42_transfer_without_restriction_goes_to_the_responsible_clinician(
    vcs: Vcs, engine: Engine
) -> None:
    """ss 43A, 44A: a transfer direction without a restriction direction."""
    case_ref, _ = await registered_patient(
        vcs, "H42U", DisposalKind.TRANSFER_DIRECTION, restricted=False
    )
    victim_id = await opted_in_victim(vcs, case_ref, ContactLevel.ALL_KEY_STAGES)
    assert shared(engine, case_ref) == [
        ("managers of Rampton Secure Hospital", LawfulBasis.DVCVA_S42A, NAME_AND_ADDRESS)
    ]
    await vcs.submit_representations(victim_id, REPRESENTATION, actor=VLO_ACTOR)
    assert forwarded_to(engine, victim_id) == [UNRESTRICTED_DECIDER]
    await vcs.record_discharge(
        case_ref, DischargeKind.COMMUNITY_TREATMENT_ORDER, today(), actor=VLO_ACTOR
    )
    await discharge_held(vcs, victim_id)


# ---- bad input: refused with a clear error, nothing changed -------------------------------------


async def test_hospital_notice_with_no_hospital_recorded_is_refused_until_one_is(
    vcs: Vcs, engine: Engine
) -> None:
    case_ref = unique_ref("HNONE")
    await vcs.register_case(
        hospital_case(case_ref, DisposalKind.HOSPITAL_ORDER, restricted=True, hospital_id=None),
        actor=VLO_ACTOR,
    )
    # The VLO is asked to record the hospital: the notices wait for it.
    [ask] = await eventually(lambda: [t for t in tasks(engine) if t.victim_id is None])
    assert ask.kind is TaskKind.RECORD_HOSPITAL
    victim_id = await opted_in_victim(vcs, case_ref, ContactLevel.ALL_KEY_STAGES)
    before = await vcs.victim_view(victim_id, VLO_ACTOR)
    sent = victim_letters(engine, victim_id)

    with pytest.raises(VcsError, match=f"no hospital is recorded for case {case_ref}"):
        await vcs.notify_hospital(victim_id, actor=VLO_ACTOR)
    assert count(engine, Disclosure) == 0 and notices(engine, victim_id) == []
    assert victim_letters(engine, victim_id) == sent
    assert await vcs.victim_view(victim_id, VLO_ACTOR) == before

    hospital_id = new_hospital(engine)
    await vcs.record_hospital(case_ref, hospital_id, today(), actor=VLO_ACTOR)
    await eventually(lambda: len(notices(engine, victim_id)) == 1)
    assert [t for t in tasks(engine) if t.victim_id is None] == []
    # Now a VLO may notify again (the victim's address changed), exactly once per request.
    result = await vcs.notify_hospital(victim_id, actor=VLO_ACTOR)
    assert "dvcva_s36a" in result.message
    assert len(notices(engine, victim_id)) == 2 and len(shared(engine, case_ref)) == 2


async def test_hospital_path_for_an_ineligible_offence_is_refused(vcs: Vcs, engine: Engine) -> None:
    hospital_id = new_hospital(engine)
    case_ref = unique_ref("HBAD")
    with pytest.raises(VcsError, match=r"not eligible: no offence is sexual or violent"):
        await vcs.register_case(
            hospital_case(
                case_ref,
                DisposalKind.HOSPITAL_ORDER,
                restricted=True,
                hospital_id=hospital_id,
                category=OffenceCategory.OTHER,
            ),
            actor=VLO_ACTOR,
        )
    assert count(engine, OffenderCase) == 0

    # A discretionary custodial case cannot be moved to s 42 (s 42A would disclose an address
    # on a basis the statute does not give it): refused, the case and its workflow unchanged.
    custodial = unique_ref("HDISC")
    await vcs.register_case(
        registration(
            custodial,
            SENTENCED,
            term_months=48,
            category=OffenceCategory.OTHER,
            discretionary_reason="domestic abuse: VLO judges contact appropriate",
        ),
        actor=VLO_ACTOR,
    )
    with pytest.raises(VcsError, match="cannot move to the DVCVA s 42 path: no offence"):
        await vcs.record_transfer_to_hospital(
            custodial, hospital_id, today(), True, None, actor=VLO_ACTOR
        )
    assert case_row(engine, custodial).disposal is DisposalKind.CUSTODIAL
    assert (await vcs.case_view(custodial, VLO_ACTOR)).hospital is None


async def test_unknown_hospital_is_refused_and_changes_nothing(
    vcs: Vcs, engine: Engine, local_env: WorkflowEnvironment
) -> None:
    with pytest.raises(VcsError, match="no hospital 999 is recorded"):
        await vcs.register_case(
            hospital_case(
                unique_ref("HUNK"), DisposalKind.HOSPITAL_ORDER, restricted=True, hospital_id=999
            ),
            actor=VLO_ACTOR,
        )
    assert count(engine, OffenderCase) == 0

    case_ref, hospital_id = await registered_patient(
        vcs, "HUNK", DisposalKind.HOSPITAL_ORDER, restricted=True
    )
    victim_id = await opted_in_victim(vcs, case_ref, ContactLevel.ALL_KEY_STAGES)
    view = await vcs.case_view(case_ref, VLO_ACTOR)
    with pytest.raises(VcsError, match="no hospital 999 is recorded"):
        await vcs.record_hospital(case_ref, 999, today(), actor=VLO_ACTOR)
    # Past the command line, straight to the workflow: the activity refuses, the state stays.
    handle = local_env.client.get_workflow_handle(case_workflow_id(case_ref))
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(
            CaseWorkflow.record_hospital, RecordHospital(hospital_id=999, on=today(), by=VLO)
        )
    assert await vcs.case_view(case_ref, VLO_ACTOR) == view
    assert case_row(engine, case_ref).hospital_id == hospital_id
    assert len(notices(engine, victim_id)) == 1
    # A move to the hospital already recorded, a remission of a hospital order, a release.
    with pytest.raises(VcsError, match="already in hospital"):
        await vcs.record_hospital(case_ref, hospital_id, today(), actor=VLO_ACTOR)
    with pytest.raises(VcsError, match="cannot be remitted to prison"):
        await vcs.record_remission(case_ref, today(), actor=VLO_ACTOR)
    with pytest.raises(VcsError, match="in the future"):
        await vcs.record_discharge(
            case_ref, DischargeKind.CONDITIONAL, today() + timedelta(days=2), actor=VLO_ACTOR
        )
    assert await vcs.case_view(case_ref, VLO_ACTOR) == view


# ---- the rules, without a server ----------------------------------------------------------------


def test_representations_follow_whoever_decides_discharge() -> None:
    """s 37: to the Secretary of State / tribunal only while the restriction order is in force;
    after it ceases (and on the unrestricted paths, ss 37A, 43A) to the responsible clinician."""
    on = date(2030, 1, 1)
    restricted = HospitalStatus(disposal=DisposalKind.HOSPITAL_ORDER, restricted=True)
    assert discharge_decider(restricted, on) == RESTRICTED_DECIDER
    ended = restricted.model_copy(update={"restriction_ends_on": on})
    assert discharge_decider(ended, on) == UNRESTRICTED_DECIDER
    assert discharge_decider(ended, on - timedelta(days=1)) == RESTRICTED_DECIDER
    unrestricted = HospitalStatus(disposal=DisposalKind.TRANSFER_DIRECTION, restricted=False)
    assert discharge_decider(unrestricted, on) == UNRESTRICTED_DECIDER


def test_discharge_kinds_follow_the_restriction() -> None:
    """MHA 1983 s 17A (CTOs for unrestricted patients), s 42(2)/s 73 (conditional discharge of
    restricted ones); nothing after an absolute discharge."""
    on = date(2030, 1, 1)
    restricted = HospitalStatus(disposal=DisposalKind.HOSPITAL_DIRECTION, restricted=True)
    assert discharge_problems(restricted, DischargeKind.CONDITIONAL, on) == []
    [cto] = discharge_problems(restricted, DischargeKind.COMMUNITY_TREATMENT_ORDER, on)
    assert "limitation direction is in force" in cto
    done = restricted.model_copy(update={"discharge": DischargeKind.ABSOLUTE, "discharged_on": on})
    assert "absolutely discharged" in discharge_problems(done, DischargeKind.ABSOLUTE, on)[0]


# ---- the command line ----------------------------------------------------------------------------


async def test_cli_hospital_order_from_registration_to_discharge(cli: Cli) -> None:
    hospital = cli.details(name=HOSPITAL.name, address=HOSPITAL.address, postcode="DN22 0PD")
    [line] = await cli.ok("add-hospital", "--details", hospital)
    assert line == "hospital 1 recorded"
    assert await cli.ok("add-hospital", "--details", hospital) == ["hospital 1 already recorded"]
    assert await cli.ok("hospitals") == ["hospital 1: Rampton Secure Hospital DN22 0PD"]

    case_ref = unique_ref("CLIH")
    register = [
        "register-case",
        "--case-ref",
        case_ref,
        "--region",
        "Yorkshire and the Humber",
        "--sentence-date",
        SENTENCED.isoformat(),
        "--disposal",
        "hospital_order",
        "--restricted",
        "--finding",
        "under_disability",
    ]
    violent = ["--offence", "sch15_violent:Wounding"]
    err = await cli.refused(*register, *violent, "--hospital", "7")
    assert err == "error: no hospital 7 is recorded: add it with add-hospital"
    err = await cli.refused(*register, "--offence", "other:Theft", "--hospital", "1")
    assert "not eligible" in err and "s 45(2)" in err
    assert count(cli.engine, OffenderCase) == 0
    await cli.ok(*register, *violent, "--hospital", "1")
    victim_id = await add_victim(cli, case_ref)
    [offer] = await eventually(lambda: tasks(cli.engine, victim_id))
    await cli.ok("complete-task", "--task", str(offer.id), "--text-file", cli.text("phoned"))
    await cli.ok(
        "opt-in", "--case", case_ref, "--victim", str(victim_id), "--level", "all_key_stages"
    )

    [disclosure] = await cli.ok("disclosures", "--case", case_ref)
    assert (
        "to managers of Rampton Secure Hospital (hospital_managers) under dvcva_s36a" in disclosure
    )
    assert "victim_name, victim_address" in disclosure
    assert NAME not in disclosure and ADDRESS not in disclosure  # categories, not content
    [notice] = notices(cli.engine, victim_id)
    assert NAME in notice and ADDRESS in notice and POSTCODE in notice

    [forwarded] = await cli.ok(
        "submit-representations",
        "--case",
        case_ref,
        "--victim",
        str(victim_id),
        "--text-file",
        cli.text(REPRESENTATION),
    )
    assert RESTRICTED_DECIDER in forwarded
    await cli.ok(
        "record-conditions",
        "--case",
        case_ref,
        "--kind",
        "no_contact",
        "--text-file",
        cli.text("Not to contact the victim"),
        "--victim-related",
        "--starts",
        today().isoformat(),
    )
    err = await cli.refused(
        "record-discharge", "--case", case_ref, "--kind", "cto", "--date", today().isoformat()
    )
    assert "community treatment order is for unrestricted patients" in err
    [discharged] = await cli.ok(
        "record-discharge",
        "--case",
        case_ref,
        "--kind",
        "conditional",
        "--date",
        today().isoformat(),
    )
    assert discharged == f"conditional discharge on {today()} recorded; victims told"
    await discharge_held(cli.vcs, victim_id)
    other = cli.details(name=OTHER_HOSPITAL.name, address=OTHER_HOSPITAL.address)
    await cli.ok("add-hospital", "--details", other)
    [readmitted] = await cli.ok(
        "record-hospital", "--case", case_ref, "--hospital", "2", "--date", today().isoformat()
    )
    assert readmitted.startswith(f"patient readmitted to hospital 2 on {today()}")
    await eventually(lambda: len(notices(cli.engine, victim_id)) == 3)
    [again] = await cli.ok("notify-hospital", "--case", case_ref, "--victim", str(victim_id))
    assert again.startswith("managers of hospital 2 notified")
    err = await cli.refused("record-remission", "--case", case_ref, "--date", today().isoformat())
    assert "cannot be remitted to prison" in err


async def test_cli_transfer_to_hospital_and_back(cli: Cli) -> None:
    await cli.ok(
        "add-hospital", "--details", cli.details(name=HOSPITAL.name, address=HOSPITAL.address)
    )
    case_ref = unique_ref("CLIT")
    await cli.ok(
        *case_args(
            case_ref,
            SENTENCED,
            term_months=48,
            crd=SENTENCED + timedelta(days=730),
            led=SENTENCED + timedelta(days=1460),
            sed=SENTENCED + timedelta(days=1460),
        )
    )
    victim_id = await add_victim(cli, case_ref)
    [offer] = await eventually(lambda: tasks(cli.engine, victim_id))
    await cli.ok("complete-task", "--task", str(offer.id))
    await cli.ok(
        "opt-in", "--case", case_ref, "--victim", str(victim_id), "--level", "release_only"
    )
    transfer = [
        "record-key-stage",
        "--case",
        case_ref,
        "--stage",
        "transfer_to_hospital",
        "--date",
        today().isoformat(),
    ]

    err = await cli.refused(*transfer)
    assert "needs its transfer direction: give --hospital ID" in err
    err = await cli.refused(*transfer, "--hospital", "9")
    assert "no hospital 9 is recorded" in err
    err = await cli.refused("notify-hospital", "--case", case_ref, "--victim", str(victim_id))
    assert "custodial path" in err
    [moved] = await cli.ok(
        *transfer,
        "--hospital",
        "1",
        "--restriction-direction",
        "--restriction-ends",
        RESTRICTION_ENDS.isoformat(),
    )
    assert "with a restriction direction" in moved and "s 42 path" in moved
    await eventually(lambda: LetterKind.HOSPITAL_DETAILS in victim_letters(cli.engine, victim_id))
    # release_only: not told the key stage, but told the hospital (s 42A is statutory).
    assert LetterKind.KEY_STAGE not in victim_letters(cli.engine, victim_id)
    [victims] = await cli.ok("victims", "--case", case_ref)
    assert victims.startswith(f"victim {victim_id}: opted_in")
    err = await cli.refused(*transfer, "--hospital", "1")
    assert "already on a hospital path" in err
    [back] = await cli.ok("record-remission", "--case", case_ref, "--date", today().isoformat())
    assert "back on the custodial path" in back
    await eventually(lambda: LetterKind.REMITTED in victim_letters(cli.engine, victim_id))
    [victims] = await cli.ok("victims", "--case", case_ref)
    assert victims.startswith(f"victim {victim_id}: opted_in") and "release_only" in victims
    timeline = "\n".join(await cli.ok("timeline", "--case", case_ref))
    assert "transferred_to_hospital" in timeline and "remitted_to_prison" in timeline
    assert ADDRESS not in timeline


# ---- letters -------------------------------------------------------------------------------------


async def test_welsh_victim_gets_the_hospital_letters_in_welsh(vcs: Vcs, engine: Engine) -> None:
    case_ref, _ = await registered_patient(
        vcs,
        "HCY",
        DisposalKind.TRANSFER_DIRECTION,
        restricted=True,
        restriction_ends_on=RESTRICTION_ENDS,
    )
    victim_id, _ = await vcs.add_victim(case_ref, victim(language=Language.WELSH), actor=VLO_ACTOR)
    await offered_and_opted_in(vcs, engine, victim_id, ContactLevel.ALL_KEY_STAGES)
    [details] = letter_bodies(engine, victim_id, LetterKind.HOSPITAL_DETAILS)
    assert details.startswith("Alice Example") and "Mae'r troseddwr yn cael ei gadw" in details
    assert "Rampton Secure Hospital" in details
    await vcs.record_conditions(case_ref, [victim_related("Dim cysylltiad")], actor=VLO_ACTOR)
    await eventually(lambda: LetterKind.DISCHARGE_CONDITIONS in victim_letters(engine, victim_id))
    [told] = letter_bodies(engine, victim_id, LetterKind.DISCHARGE_CONDITIONS)
    assert "Bydd y cyfarwyddyd cyfyngiadau yn dod i ben ym mis" in told
    # The notice to the managers is in English whatever the victim's language.
    [notice] = notices(engine, victim_id)
    assert "section 42A" in notice
    with session_scope(engine) as session:
        row = session.exec(
            select(Correspondence).where(Correspondence.kind == LetterKind.HOSPITAL_NOTICE)
        ).one()
    assert row.language is Language.ENGLISH
