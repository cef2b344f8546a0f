"""Key stages (issue 3): each is recorded on the case once (as models/key_stages.py defines it
for that stage) and told to every opted-in victim who asked for that kind of information, in
their channel and language. An escape or absconding reaches the VLO as an urgent task before
the update answers; a death tells every victim in the scheme and closes the case.

The rules are checked first on their own, then case by case on a dev server (`local_env`, real
dates: updates and time skipping do not mix well), and the escalation of an ignored urgent task
under time skipping."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import col, func, select
from temporalio.testing import WorkflowEnvironment

from models.case import MilestoneDates, OffenderCase
from models.db import session_scope
from models.errors import VcsError
from models.hospital import HospitalBase
from models.key_stages import (
    ALWAYS_TOLD,
    Custody,
    custody_of,
    key_stage_problem,
    record,
    release_problem,
    told,
)
from models.messages import ActionResult, CaseView
from models.records import AuditEntry, CaseNote, Correspondence, VloTask
from models.victim import Enrolment
from models.vocabulary import (
    CaseStatus,
    Channel,
    ContactLevel,
    DischargeKind,
    DisposalKind,
    KeyStage,
    Language,
    LetterKind,
    Stage,
    TaskKind,
    TaskStatus,
)
from models.workflow_state import CaseState, HospitalStatus
from models.working_days import london_date
from service.vcs import Vcs
from tests.cli_harness import Cli, case_args, today
from tests.conftest import unique_ref
from tests.helpers import (
    VLO_ACTOR,
    audit_facts,
    eventually,
    letters,
    offered_and_opted_in,
    registration,
    run_until,
    settled,
    stage,
    tasks,
    victim,
)
from worker import build_worker

VLO = "vlo.jones"

# How each stage must read in a letter: plain words, never the enum value.
WORDS: dict[KeyStage, tuple[str, str]] = {
    KeyStage.TEMPORARY_RELEASE: ("release on temporary licence", "ryddhau ar drwydded dros dro"),
    KeyStage.OPEN_CONDITIONS: ("moved to open conditions", "symud i amodau agored"),
    KeyStage.PAROLE_REVIEW: ("referred to the Parole Board", "gyfeirio at y Bwrdd Parôl"),
    KeyStage.RECALL: ("recalled to custody", "alw'n ôl i'r ddalfa"),
    KeyStage.ESCAPE: ("escaped from custody", "wedi dianc o'r ddalfa"),
    KeyStage.ABSCONDING: ("did not return from temporary release", "wedi mynd ar ffo"),
    KeyStage.RETURNED_TO_CUSTODY: ("back in custody", "yn ôl yn y ddalfa"),
    KeyStage.DEATH: ("the offender has died", "mae'r troseddwr wedi marw"),
    KeyStage.TRANSFER_TO_HOSPITAL: ("transferred to hospital", "drosglwyddo i'r ysbyty"),
    KeyStage.DEPORTATION: ("has been deported", "wedi cael ei allgludo"),
}
SCHEME_ENDED = ("Your part in the Victim Contact Scheme has now ended", "wedi dod i ben")


# ---- the rules on their own (models/key_stages.py) -----------------------------------------

SENTENCED = date(2026, 1, 5)
NOW = date(2026, 9, 1)


def case_state(**milestones: date) -> CaseState:
    return CaseState(milestones=MilestoneDates(sentence_date=SENTENCED, **milestones))


def recorded(state: CaseState, stage: KeyStage, on: date) -> CaseState:
    """Record `stage`, which must be allowed."""
    assert key_stage_problem(state, stage, on, NOW) is None, (stage, on)
    record(state, stage, on)
    return state


def test_prison_only_key_stages_are_refused_for_a_patient_with_the_route_to_use() -> None:
    """A patient on a hospital path (DVCVA ss 36-44A) is in hospital, not prison: temporary
    release, open conditions, a licence recall and a second transfer are refused, naming what
    to record instead; a hospital order has no Parole Board review (it is not a sentence), a
    transfer direction does. A patient can abscond (MHA 1983 s 18) and be returned, but not
    once discharged."""
    order = case_state()
    order.hospital = HospitalStatus(
        disposal=DisposalKind.HOSPITAL_ORDER, restricted=True, hospital_id=1, placement=1
    )
    on = SENTENCED + timedelta(days=30)
    for key_stage, route in [
        (KeyStage.TEMPORARY_RELEASE, "MHA 1983 s 17"),
        (KeyStage.OPEN_CONDITIONS, "record a move between hospitals"),
        (KeyStage.RECALL, "as a readmission to hospital"),
        (KeyStage.TRANSFER_TO_HOSPITAL, "record a move between hospitals"),
        (KeyStage.PAROLE_REVIEW, "record a Mental Health Tribunal application"),
    ]:
        problem = key_stage_problem(order, key_stage, on, NOW)
        assert problem is not None and "hospital path (s36_restricted)" in problem, key_stage
        assert route in problem, key_stage
    transfer = case_state()
    transfer.hospital = HospitalStatus(
        disposal=DisposalKind.TRANSFER_DIRECTION, restricted=False, hospital_id=1, placement=1
    )
    assert key_stage_problem(transfer, KeyStage.PAROLE_REVIEW, on, NOW) is None
    recorded(order, KeyStage.ABSCONDING, on)
    recorded(order, KeyStage.RETURNED_TO_CUSTODY, on + timedelta(days=2))
    order.hospital = order.hospital.model_copy(
        update={"discharge": DischargeKind.CONDITIONAL, "discharged_on": on + timedelta(days=5)}
    )
    problem = key_stage_problem(order, KeyStage.ESCAPE, on + timedelta(days=9), NOW)
    assert problem is not None and "discharged (conditional)" in problem
    assert key_stage_problem(order, KeyStage.DEATH, on + timedelta(days=9), NOW) is None


def test_only_escape_absconding_and_the_return_reach_victims_who_did_not_ask_for_all() -> None:
    """Contact level 'all key stages' hears of every key stage; the other levels only of an
    escape or absconding (EU Victims Directive 2012/29/EU art 6(5)) and its end."""
    for key_stage in KeyStage:
        assert told(key_stage, ContactLevel.ALL_KEY_STAGES)
        for level in (ContactLevel.RELEASE_ONLY, ContactLevel.ANNUAL):
            urgent = {KeyStage.ESCAPE, KeyStage.ABSCONDING, KeyStage.RETURNED_TO_CUSTODY}
            assert told(key_stage, level) is (key_stage in urgent), (key_stage, level)


def test_death_and_deportation_happen_once_in_a_case() -> None:
    state = recorded(case_state(), KeyStage.DEPORTATION, NOW - timedelta(days=3))
    problem = key_stage_problem(state, KeyStage.DEPORTATION, NOW, NOW)
    assert problem == (
        f"deportation is already recorded, on {NOW - timedelta(days=3)}: an offender is removed "
        "from the UK once in a case"
    )
    state = recorded(case_state(), KeyStage.DEATH, NOW - timedelta(days=1))
    assert "death is already recorded" in (key_stage_problem(state, KeyStage.DEATH, NOW, NOW) or "")


def test_recall_is_from_licence_and_recurs_only_after_the_next_release() -> None:
    state = case_state()
    problem = key_stage_problem(state, KeyStage.RECALL, NOW, NOW)
    assert problem == (
        f"recall cannot be recorded while the offender is in custody since {SENTENCED}: a recall "
        "is of an offender released on licence (CJA 2003 s 254)"
    )
    released = NOW - timedelta(days=60)
    state = case_state(release_date=released)
    assert custody_of(state) is Custody.ON_LICENCE
    early = released - timedelta(days=1)
    assert key_stage_problem(state, KeyStage.RECALL, early, NOW) == (
        f"recall date {early} is before the offender was on licence since {released}"
    )
    recorded(state, KeyStage.RECALL, NOW - timedelta(days=30))
    assert custody_of(state) is Custody.IN_CUSTODY and state.recalled_on == NOW - timedelta(30)
    again = key_stage_problem(state, KeyStage.RECALL, NOW, NOW) or ""
    assert f"in custody, recalled on {NOW - timedelta(days=30)}" in again
    # Released again (record_release after a recall): the next recall is allowed.
    assert release_problem(state, NOW - timedelta(days=31)) == (
        f"release date {NOW - timedelta(days=31)} is before the recall on {NOW - timedelta(30)}"
    )
    assert release_problem(state, NOW - timedelta(days=10)) is None
    state.recalled_on = None
    state.milestones.release_date = NOW - timedelta(days=10)
    recorded(state, KeyStage.RECALL, NOW)


def test_escape_recurs_only_after_a_return_to_custody() -> None:
    state = case_state()
    assert key_stage_problem(state, KeyStage.RETURNED_TO_CUSTODY, NOW, NOW) == (
        f"returned_to_custody cannot be recorded while the offender is in custody since "
        f"{SENTENCED}: a return to custody ends an escape or absconding"
    )
    escaped = NOW - timedelta(days=20)
    recorded(state, KeyStage.ESCAPE, escaped)
    assert custody_of(state) is Custody.AT_LARGE
    for again in (KeyStage.ESCAPE, KeyStage.ABSCONDING, KeyStage.TEMPORARY_RELEASE):
        problem = key_stage_problem(state, again, NOW, NOW) or ""
        assert f"while the offender is unlawfully at large since {escaped}" in problem, again
    assert release_problem(state, NOW) == (
        f"the offender is unlawfully at large since {escaped}: record returned_to_custody first"
    )
    recorded(state, KeyStage.RETURNED_TO_CUSTODY, NOW - timedelta(days=10))
    assert custody_of(state) is Custody.IN_CUSTODY
    assert "is before the offender was in custody" in (
        key_stage_problem(state, KeyStage.ABSCONDING, NOW - timedelta(days=11), NOW) or ""
    )
    recorded(state, KeyStage.ABSCONDING, NOW)
    # On licence, an offender who goes missing is recalled: no escape from licence.
    on_licence = case_state(release_date=NOW - timedelta(days=5))
    assert "on licence since" in (key_stage_problem(on_licence, KeyStage.ESCAPE, NOW, NOW) or "")


def test_open_conditions_once_per_spell_in_custody_temporary_release_once_a_day() -> None:
    state = recorded(case_state(), KeyStage.OPEN_CONDITIONS, NOW - timedelta(days=90))
    problem = key_stage_problem(state, KeyStage.OPEN_CONDITIONS, NOW, NOW)
    assert problem == (
        f"open_conditions is already recorded, on {NOW - timedelta(days=90)}, in this spell in "
        f"custody (since {SENTENCED}): a recall or a return to custody comes first"
    )
    recorded(state, KeyStage.TEMPORARY_RELEASE, NOW - timedelta(days=2))
    recorded(state, KeyStage.TEMPORARY_RELEASE, NOW - timedelta(days=1))
    assert key_stage_problem(state, KeyStage.TEMPORARY_RELEASE, NOW - timedelta(1), NOW) == (
        f"temporary_release on {NOW - timedelta(days=1)} is already recorded"
    )
    # Absconding from open conditions, then back: a new spell, open conditions again later.
    recorded(state, KeyStage.ABSCONDING, NOW - timedelta(days=1))
    recorded(state, KeyStage.RETURNED_TO_CUSTODY, NOW)
    recorded(state, KeyStage.OPEN_CONDITIONS, NOW)
    assert key_stage_problem(state, KeyStage.OPEN_CONDITIONS, NOW + timedelta(1), NOW) == (
        f"open_conditions date {NOW + timedelta(days=1)} is in the future"
    )


# ---- on a dev server: who is told, how, and only once ---------------------------------------


@dataclass
class World:
    """A case sentenced 30 days ago (the offer not yet due) with four victims: two who asked
    for every key stage (one by letter in English, one by email in Welsh), one who asked for
    the release only, and one offered the scheme who never answered."""

    env: WorkflowEnvironment
    vcs: Vcs
    engine: Engine
    case_ref: str
    english: int
    welsh: int
    release_only: int
    offered: int

    @property
    def opted_in(self) -> set[int]:
        return {self.english, self.welsh, self.release_only}

    @property
    def everyone(self) -> set[int]:
        return self.opted_in | {self.offered}

    async def view(self) -> CaseView:
        return await self.vcs.case_view(self.case_ref, VLO_ACTOR)


# Sentenced long enough ago for a release to be recorded in the month before last: a victim
# is told of a release on the first working day of the next month (models/release_month.py),
# which has then come, so these tests (on the real clock) see the letters at once.
SENTENCED_ON = today() - timedelta(days=120)
RELEASE_MONTH_START = (today().replace(day=1) - timedelta(days=40)).replace(day=1)


@pytest.fixture
async def world(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> AsyncIterator[World]:
    vcs = Vcs(local_env.client, engine, task_queue)
    case_ref = unique_ref("KS")
    async with build_worker(local_env.client, engine, task_queue):
        await vcs.register_case(registration(case_ref, SENTENCED_ON), actor=VLO_ACTOR)
        english, _ = await vcs.add_victim(case_ref, victim("Alice Example"), actor=VLO_ACTOR)
        welsh, _ = await vcs.add_victim(
            case_ref,
            victim(
                "Bryn Enghraifft",
                preferred_channel=Channel.EMAIL,
                email="bryn@example.invalid",
                language=Language.WELSH,
            ),
            actor=VLO_ACTOR,
        )
        release_only, _ = await vcs.add_victim(case_ref, victim("Carys Example"), actor=VLO_ACTOR)
        offered, _ = await vcs.add_victim(case_ref, victim("Dai Example"), actor=VLO_ACTOR)
        await asyncio.gather(
            offered_and_opted_in(vcs, engine, english, ContactLevel.ALL_KEY_STAGES),
            offered_and_opted_in(vcs, engine, welsh, ContactLevel.ALL_KEY_STAGES),
            offered_and_opted_in(vcs, engine, release_only, ContactLevel.RELEASE_ONLY),
            offered_and_opted_in(vcs, engine, offered, level=None),
        )
        yield World(local_env, vcs, engine, case_ref, english, welsh, release_only, offered)


def rows(engine: Engine, victim_id: int, kind: LetterKind) -> list[Correspondence]:
    with session_scope(engine) as session:
        return list(
            session.exec(
                select(Correspondence)
                .where(Correspondence.victim_id == victim_id, Correspondence.kind == kind)
                .order_by(col(Correspondence.id))
            ).all()
        )


async def letters_reach(engine: Engine, victim_id: int, kind: LetterKind, count: int) -> None:
    await eventually(lambda: len(rows(engine, victim_id, kind)) == count)


async def closed(engine: Engine, victim_id: int) -> None:
    await eventually(lambda: stage(engine, victim_id) is Stage.CLOSED)


def footprint(w: World) -> dict[str, object]:
    """Everything a repeated key stage must leave alone, in the case database."""
    with session_scope(w.engine) as session:
        case = session.exec(select(OffenderCase).where(OffenderCase.case_ref == w.case_ref)).one()

        def count(model: type, *where: object) -> int:
            query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
            return int(session.exec(query).one())

        return {
            "letters": count(Correspondence, Correspondence.case_id == case.id),
            "tasks": count(VloTask, VloTask.case_id == case.id),
            "audit": count(AuditEntry, AuditEntry.case_id == case.id),
            "case": (case.status, case.release_date),
            "stages": sorted(
                (e.victim_id, e.stage)
                for e in session.exec(select(Enrolment).where(Enrolment.case_id == case.id))
            ),
        }


async def quiet_footprint(w: World) -> dict[str, object]:
    """The footprint once the engine has finished what it was doing (letters still going out
    to the victims, say): the same twice, half a second apart."""
    return await settled(lambda: footprint(w))


async def record_stage(w: World, key_stage: KeyStage, on: date) -> ActionResult:
    """Record a key stage as a VLO does. A transfer to hospital names its hospital and moves
    the case to the DVCVA s 42 path (workflows/hospital.py); the others are record-key-stage."""
    if key_stage is KeyStage.TRANSFER_TO_HOSPITAL:
        unit = HospitalBase(name="Example Secure Unit", address="1 Ward Road, Leeds")
        hospital_id, _ = w.vcs.add_hospital(unit, actor=VLO_ACTOR)
        return await w.vcs.record_transfer_to_hospital(
            w.case_ref, hospital_id, on, restricted=False, restriction_ends_on=None, actor=VLO_ACTOR
        )
    return await w.vcs.record_key_stage(w.case_ref, key_stage, on, actor=VLO_ACTOR)


async def until(w: World, stage_first: KeyStage | None) -> None:
    """What must have happened before the stage can: a release before a recall, an escape
    before a return to custody. Waits until the victims have been told of it."""
    if stage_first is None:
        return
    on = RELEASE_MONTH_START
    if stage_first is KeyStage.RECALL:
        await w.vcs.record_release(w.case_ref, on, actor=VLO_ACTOR)
        kind = LetterKind.RELEASE  # every opted-in victim is told of a release
    else:
        await w.vcs.record_key_stage(w.case_ref, KeyStage.ESCAPE, on, actor=VLO_ACTOR)
        kind = LetterKind.KEY_STAGE  # an escape reaches every opted-in victim
    for victim_id in w.opted_in:
        await letters_reach(w.engine, victim_id, kind, 1)


def assert_worded(w: World, key_stage: KeyStage, victim_id: int, language: Language) -> None:
    [letter] = rows(w.engine, victim_id, LetterKind.KEY_STAGE)[-1:]
    english, welsh = WORDS[key_stage]
    assert letter.language is language
    if language is Language.WELSH:
        assert letter.channel is Channel.EMAIL
        assert welsh in letter.body and english not in letter.body
    else:
        assert letter.channel is Channel.LETTER
        assert english in letter.body and welsh not in letter.body
    if "_" in key_stage.value:
        assert key_stage.value not in letter.body  # plain words, not the enum value


# A parole review is recorded by the referral, whose invitation tells the victims (workflows/
# case.py refer_parole; tests/test_parole.py), never by record-key-stage.
TOLD_BY_KEY_STAGE = [s for s in KeyStage if s is not KeyStage.PAROLE_REVIEW]


@pytest.mark.parametrize("key_stage", TOLD_BY_KEY_STAGE, ids=[s.value for s in TOLD_BY_KEY_STAGE])
async def test_each_key_stage_is_told_once_to_the_victims_who_asked_in_their_channel_and_language(
    world: World, key_stage: KeyStage
) -> None:
    w = world
    needs = {KeyStage.RECALL: KeyStage.RECALL, KeyStage.RETURNED_TO_CUSTODY: KeyStage.ESCAPE}
    await until(w, needs.get(key_stage))
    on = today()
    before = {v: len(rows(w.engine, v, LetterKind.KEY_STAGE)) for v in w.everyone}
    opened = {t.id for t in tasks(w.engine)}

    answer = await record_stage(w, key_stage, on)
    transfer = key_stage is KeyStage.TRANSFER_TO_HOSPITAL  # its s 42A notices follow it

    # Told: those who asked for every key stage; the release-only victim too for an escape,
    # absconding or the return (ALWAYS_TOLD) and for a death (their scheme ends).
    hearing = {w.english, w.welsh}
    if key_stage in ALWAYS_TOLD or key_stage is KeyStage.DEATH:
        hearing.add(w.release_only)
    for victim_id in hearing:
        await letters_reach(w.engine, victim_id, LetterKind.KEY_STAGE, before[victim_id] + 1)
    assert_worded(w, key_stage, w.english, Language.ENGLISH)
    assert_worded(w, key_stage, w.welsh, Language.WELSH)
    # The case answers once every victim on it has taken the stage in (workflows/
    # case_victims.py): those not told have had no letter by now, nor will they.
    for victim_id in w.everyone - hearing:
        assert len(rows(w.engine, victim_id, LetterKind.KEY_STAGE)) == before[victim_id]

    new_tasks = [t for t in tasks(w.engine) if t.id not in opened]
    view = await w.view()
    assert (key_stage, on) in view.key_stages
    if key_stage in (KeyStage.ESCAPE, KeyStage.ABSCONDING):
        # At once, before the answer: an urgent task for the VLO, due today.
        [urgent] = new_tasks
        assert urgent.kind is TaskKind.URGENT_KEY_STAGE and urgent.victim_id is None
        assert urgent.due_on == on and urgent.assigned_to == VLO
        assert answer.message == (
            f"{key_stage.value} recorded and victims told; urgent task {urgent.id} for {VLO} "
            f"due {on}"
        )
        assert view.custody == Custody.AT_LARGE.value
    elif key_stage is KeyStage.DEATH:
        assert answer.message == (
            f"death recorded; every victim in the scheme told; case {w.case_ref} closed"
        )
    else:
        assert new_tasks == []
        if not transfer:
            assert answer.message == f"{key_stage.value} recorded and victims told"

    if key_stage is KeyStage.DEATH:
        # The scheme ends for the case: every victim's workflow closes; the opted-in ones were
        # told by the death letter, which says so, and get no second 'scheme ended' letter.
        for victim_id in w.everyone:
            await closed(w.engine, victim_id)
        for victim_id in w.opted_in:
            [letter] = rows(w.engine, victim_id, LetterKind.KEY_STAGE)[-1:]
            assert SCHEME_ENDED[1 if victim_id == w.welsh else 0] in letter.body
            assert LetterKind.SCHEME_ENDED not in letters(w.engine, victim_id)
        assert letters(w.engine, w.offered) == [LetterKind.OFFER]
        assert view.closed and view.custody == "closed" and tasks(w.engine) == []
        with session_scope(w.engine) as session:
            case = session.exec(
                select(OffenderCase).where(OffenderCase.case_ref == w.case_ref)
            ).one()
            assert case.status is CaseStatus.CLOSED
            closing = session.exec(
                select(AuditEntry).where(
                    AuditEntry.case_id == case.id, AuditEntry.action == "case_closed"
                )
            ).one()
            assert closing.actor == VLO
            # Why: a note the retention job erases, named from the entry (issue 13).
            note = session.get(CaseNote, audit_facts(closing.detail)["note"])
            assert note is not None and note.text == "ended by death"
    else:
        # Deportation included: the licence and any supervision run on, so the case stays open.
        assert not view.closed
        if key_stage is KeyStage.RECALL:
            assert view.custody == Custody.IN_CUSTODY.value  # back in custody

    # Recorded once: the same again is refused, clearly, and nothing changes.
    settled = await quiet_footprint(w)
    with pytest.raises(VcsError) as refused:
        await record_stage(w, key_stage, on)
    if key_stage is KeyStage.DEATH:
        assert "closed" in str(refused.value) or "not running" in str(refused.value)
    elif transfer:
        assert f"case {w.case_ref} is already on a hospital path" in str(refused.value)
    else:
        assert str(refused.value) == f"{key_stage.value} on {on} is already recorded"
    await asyncio.sleep(0.5)  # anything the refusal had set off would show by now
    assert footprint(w) == settled
    assert (await w.view()).key_stages == view.key_stages


async def test_release_is_told_to_every_opted_in_victim_once(world: World) -> None:
    w = world
    on = RELEASE_MONTH_START + timedelta(days=14)
    assert (await w.view()).custody == Custody.IN_CUSTODY.value
    answer = await w.vcs.record_release(w.case_ref, on, actor=VLO_ACTOR)
    assert answer.message.startswith(f"release on {on} recorded; victims told the month; ")
    for victim_id in w.opted_in:
        await letters_reach(w.engine, victim_id, LetterKind.RELEASE, 1)
    assert LetterKind.RELEASE not in letters(w.engine, w.offered)  # taken in before the answer
    [english] = rows(w.engine, w.english, LetterKind.RELEASE)
    [welsh] = rows(w.engine, w.welsh, LetterKind.RELEASE)
    assert f"in {on:%B %Y}" in english.body and on.isoformat() not in english.body
    assert welsh.channel is Channel.EMAIL and welsh.language is Language.WELSH
    assert "ym mis" in welsh.body
    assert (await w.view()).custody == Custody.ON_LICENCE.value

    settled = await quiet_footprint(w)
    with pytest.raises(VcsError, match=f"the release on {on} is already recorded"):
        await w.vcs.record_release(w.case_ref, on, actor=VLO_ACTOR)
    await asyncio.sleep(0.5)
    assert footprint(w) == settled


async def test_an_offender_recalled_then_released_again_is_told_as_a_release(
    world: World,
) -> None:
    """A recall puts the offender back in custody; the next release is recorded like the first
    (every opted-in victim told the month), and a later recall is allowed again."""
    w = world
    first = RELEASE_MONTH_START
    recalled = RELEASE_MONTH_START + timedelta(days=10)
    await w.vcs.record_release(w.case_ref, first, actor=VLO_ACTOR)
    await w.vcs.record_key_stage(w.case_ref, KeyStage.RECALL, recalled, actor=VLO_ACTOR)
    assert (await w.view()).custody == Custody.IN_CUSTODY.value
    with pytest.raises(VcsError, match=f"recalled on {recalled}"):
        await w.vcs.record_key_stage(w.case_ref, KeyStage.RECALL, today(), actor=VLO_ACTOR)
    with pytest.raises(VcsError, match=f"is before the recall on {recalled}"):
        await w.vcs.record_release(w.case_ref, recalled - timedelta(days=1), actor=VLO_ACTOR)

    again = RELEASE_MONTH_START + timedelta(days=20)
    answer = await w.vcs.record_release(w.case_ref, again, actor=VLO_ACTOR)
    assert answer.message == (
        f"release on {again} after the recall of {recalled} recorded; victims told the month"
    )
    for victim_id in w.opted_in:
        await letters_reach(w.engine, victim_id, LetterKind.RELEASE, 2)
    assert f"in {again:%B %Y}" in rows(w.engine, w.english, LetterKind.RELEASE)[-1].body
    assert LetterKind.RELEASE not in letters(w.engine, w.offered)
    view = await w.view()
    assert view.custody == Custody.ON_LICENCE.value and view.milestones.release_date == again
    with session_scope(w.engine) as session:
        case = session.exec(select(OffenderCase).where(OffenderCase.case_ref == w.case_ref)).one()
        assert case.release_date == again
    with pytest.raises(VcsError, match=f"the release on {again} is already recorded"):
        await w.vcs.record_release(w.case_ref, today(), actor=VLO_ACTOR)
    await w.vcs.record_key_stage(w.case_ref, KeyStage.RECALL, today(), actor=VLO_ACTOR)
    await eventually(lambda: len(rows(w.engine, w.english, LetterKind.KEY_STAGE)) == 2)


# ---- an ignored urgent task climbs the escalation ladder (time skipping) ---------------------


@pytest.mark.usefixtures("cleanup_workflows")
async def test_an_urgent_escape_task_not_done_escalates_the_next_day(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    now = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref("KS")
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(registration(case_ref, now - timedelta(days=30)), actor=VLO_ACTOR)
        await vcs.record_key_stage(case_ref, KeyStage.ESCAPE, now, actor=VLO_ACTOR)
        [urgent] = tasks(engine)
        assert urgent.kind is TaskKind.URGENT_KEY_STAGE and urgent.due_on == now

        await run_until(env, now, extra_days=1)
        await eventually(lambda: len(tasks(engine)) == 2)
        escalation = tasks(engine)[1]
        assert escalation.kind is TaskKind.ESCALATION
        assert escalation.escalates_task_id == urgent.id
        assert escalation.assigned_to == "role:senior-vlo"

        # Doing it closes the task and its escalation.
        await vcs.complete_task(urgent.id or 0, actor=VLO_ACTOR, outcome="every victim phoned")
        assert tasks(engine) == []
        with session_scope(engine) as session:
            done = session.get(VloTask, urgent.id)
            assert done is not None and done.status is TaskStatus.DONE
            assert done.outcome == "every victim phoned"
        assert (await vcs.case_view(case_ref, VLO_ACTOR)).custody == Custody.AT_LARGE.value


# ---- the command line -----------------------------------------------------------------------


async def test_cli_records_an_escape_shows_the_urgent_task_and_refuses_a_second(
    cli: Cli,
) -> None:
    case_ref = unique_ref("CLI")
    await cli.ok(*case_args(case_ref, today() - timedelta(days=50)))
    on = (today() - timedelta(days=1)).isoformat()
    escape = ["record-key-stage", "--case", case_ref, "--stage", "escape"]

    [line] = await cli.ok(*escape, "--date", on)
    [urgent] = [t for t in tasks(cli.engine) if t.kind is TaskKind.URGENT_KEY_STAGE]
    assert line == (
        f"escape recorded and victims told; urgent task {urgent.id} for {VLO} due {today()}"
    )
    listed = await cli.ok("tasks", "--case", case_ref)
    assert any(f"task {urgent.id}: due {today()}" in row and "URGENT" in row for row in listed)

    assert f"escape on {on} is already recorded" in await cli.refused(*escape, "--date", on)
    stage_flags = ["record-key-stage", "--case", case_ref, "--stage"]
    error = await cli.refused(*stage_flags, "absconding", "--date", today().isoformat())
    assert f"while the offender is unlawfully at large since {on}" in error
    assert await cli.ok(*stage_flags, "returned_to_custody", "--date", on) == [
        "returned_to_custody recorded and victims told"
    ]
    done = await cli.ok(
        "complete-task", "--task", str(urgent.id), "--text-file", cli.text("victims phoned")
    )
    assert done[0].startswith(f"task {urgent.id} completed (case {case_ref}); ")


async def test_cli_recall_needs_a_release_and_release_follows_a_recall(cli: Cli) -> None:
    case_ref = unique_ref("CLI")
    await cli.ok(*case_args(case_ref, today() - timedelta(days=50)))
    recall = ["record-key-stage", "--case", case_ref, "--stage", "recall"]
    yesterday = (today() - timedelta(days=1)).isoformat()
    error = await cli.refused(*recall, "--date", yesterday)
    assert "a recall is of an offender released on licence (CJA 2003 s 254)" in error

    released = (today() - timedelta(days=5)).isoformat()
    await cli.ok("record-release", "--case", case_ref, "--date", released)
    assert await cli.ok(*recall, "--date", yesterday) == ["recall recorded and victims told"]
    assert await cli.ok("record-release", "--case", case_ref, "--date", today().isoformat()) == [
        f"release on {today()} after the recall of {yesterday} recorded; victims told the month"
    ]
