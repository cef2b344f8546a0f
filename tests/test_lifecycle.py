"""The custodial lifecycle end to end, under the time-skipping test server."""

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from activities.letter_wording import full_date as date_in_words
from models.bank_holidays import calendar_for_new_work
from models.db import session_scope
from models.deadlines import (
    chase_and_close,
    offer_due,
    representations_opens,
    representations_reply_by,
    representations_task_due,
)
from models.errors import VcsError
from models.policy import current_policy
from models.records import LicenceConditionBase, Representation
from models.release_month import ReleaseMonth, release_told_on
from models.vocabulary import (
    ConditionKind,
    ContactLevel,
    KeyStage,
    Language,
    LetterKind,
    Stage,
    TaskKind,
)
from models.working_days import add_working_days, london_date
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.helpers import (
    VLO_ACTOR,
    eventually,
    letter_bodies,
    letters,
    offered_and_opted_in,
    registration,
    run_lengths,
    run_until,
    stage,
    tasks,
    until_quiet,
    victim,
    workflow_status,
)
from worker import build_worker
from workflows.case import case_workflow_id
from workflows.common import MAX_RUN_SPAN

pytestmark = pytest.mark.usefixtures("cleanup_workflows")
POLICY = current_policy()


def full_date(day: date) -> str:
    return date_in_words(day, Language.ENGLISH)


async def test_opted_in_victim_is_carried_from_offer_to_the_end_of_licence(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    reg = registration(case_ref, today, term_months=24)
    release = reg.conditional_release_date
    assert release is not None
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg, actor=VLO_ACTOR)
        victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=VLO_ACTOR)
        [offer_task] = await eventually(lambda: tasks(engine, victim_id))
        assert offer_task.kind is TaskKind.OFFER_SCHEME

        await vcs.complete_task(offer_task.id or 0, actor=VLO_ACTOR, outcome="phoned victim")
        assert stage(engine, victim_id) is Stage.OFFERED
        await vcs.opt_in(victim_id, ContactLevel.ALL_KEY_STAGES, actor=VLO_ACTOR)
        assert stage(engine, victim_id) is Stage.OPTED_IN

        # The representations window opens on a timer before the release month.
        month = ReleaseMonth.of(release)
        await run_until(env, representations_opens(month, POLICY), extra_days=0)
        await eventually(lambda: LetterKind.REPRESENTATIONS_INVITED in letters(engine, victim_id))
        await vcs.submit_representations(
            victim_id, "Please keep him away from my street.", actor=VLO_ACTOR
        )
        with session_scope(engine) as session:
            rep = session.exec(
                select(Representation).where(Representation.victim_id == victim_id)
            ).one()
            assert rep.forwarded_to and rep.forwarded_at

        await vcs.record_conditions(
            case_ref,
            [
                LicenceConditionBase(
                    kind=ConditionKind.NO_CONTACT,
                    description="Not to contact the victim directly or indirectly",
                    victim_related=True,
                    starts_on=release,
                ),
                LicenceConditionBase(
                    kind=ConditionKind.OTHER,
                    description="Attend drug testing",
                    victim_related=False,
                    starts_on=release,
                ),
            ],
            actor=VLO_ACTOR,
        )
        await eventually(lambda: LetterKind.CONDITIONS_IMPOSED in letters(engine, victim_id))
        [conditions_letter] = letter_bodies(engine, victim_id, LetterKind.CONDITIONS_IMPOSED)
        assert "Not to contact the victim" in conditions_letter
        assert "drug testing" not in conditions_letter  # s 35(7): only victim-related ones

        now = london_date(await env.get_current_time())
        await env.sleep(timedelta(days=(release - now).days + 1))
        await vcs.record_release(case_ref, release, actor=VLO_ACTOR)
        # Told on a day that depends on the month alone (models/release_month.py), not today.
        told_on = release_told_on(month, release, POLICY.bank_holidays)
        await run_until(env, told_on - timedelta(days=1), extra_days=0)
        assert await until_quiet(env)
        assert LetterKind.RELEASE not in letters(engine, victim_id)
        await run_until(env, told_on, extra_days=0)
        await eventually(lambda: LetterKind.RELEASE in letters(engine, victim_id))
        [release_letter] = letter_bodies(engine, victim_id, LetterKind.RELEASE)
        assert release.strftime("%B %Y") in release_letter
        assert release.isoformat() not in release_letter
        assert f"{release.day} {release:%B}" not in release_letter

        await run_until(env, reg.licence_expiry_date)
        await eventually(lambda: stage(engine, victim_id) is Stage.CLOSED)
        # The scheme-ended letter waits for the month after, and the run with it.
        assert reg.licence_expiry_date is not None
        ended_month = ReleaseMonth.of(reg.licence_expiry_date)
        await run_until(env, release_told_on(ended_month, release, POLICY.bank_holidays))
        await eventually(lambda: LetterKind.SCHEME_ENDED in letters(engine, victim_id))
        assert await until_quiet(env)
        assert await workflow_status(env, case_workflow_id(case_ref)) == "COMPLETED"
    assert letters(engine, victim_id) == [
        LetterKind.OFFER,
        LetterKind.OPT_IN_CONFIRMED,
        LetterKind.REPRESENTATIONS_INVITED,
        LetterKind.REPRESENTATIONS_RECEIVED,
        LetterKind.CONDITIONS_IMPOSED,
        LetterKind.RELEASE,
        LetterKind.SCHEME_ENDED,
    ]
    assert stage(engine, victim_id) is Stage.CLOSED
    assert tasks(engine, victim_id) == []


async def test_victim_who_opts_out_hears_nothing_more(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """Domain: a victim who says no is not contacted again unless they come back."""
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    reg = registration(case_ref, today, term_months=12)
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg, actor=VLO_ACTOR)
        victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=VLO_ACTOR)
        await offered_and_opted_in(vcs, engine, victim_id, level=None)
        await vcs.opt_out(victim_id, actor=VLO_ACTOR)
        assert stage(engine, victim_id) is Stage.OPTED_OUT
        with pytest.raises(VcsError, match="cannot opt out"):
            await vcs.opt_out(victim_id, actor=VLO_ACTOR)
        await run_until(env, reg.conditional_release_date)
        await vcs.record_key_stage(case_ref, KeyStage.ESCAPE, reg.sentence_date, actor=VLO_ACTOR)
        await run_until(env, reg.licence_expiry_date)
        await eventually(lambda: stage(engine, victim_id) is Stage.CLOSED)
    assert letters(engine, victim_id) == [LetterKind.OFFER]
    assert tasks(engine, victim_id) == []


async def test_victim_who_opts_out_after_the_release_gets_no_held_letter_until_they_return(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """Domain: a victim who says no is not contacted again unless they come back; the release
    and conditions letters held for the month after (models/release_month.py) are dropped when
    they opt out, and sent when they opt in again."""
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    reg = registration(case_ref, today, term_months=12)
    release = reg.conditional_release_date
    assert release is not None
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg, actor=VLO_ACTOR)
        victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=VLO_ACTOR)
        await offered_and_opted_in(vcs, engine, victim_id, ContactLevel.ALL_KEY_STAGES)
        await run_until(env, release, extra_days=0)
        await vcs.record_release(case_ref, release, actor=VLO_ACTOR)
        condition = LicenceConditionBase(
            kind=ConditionKind.NO_CONTACT,
            description="Not to contact the victim directly or indirectly",
            victim_related=True,
            starts_on=release,
        )
        await vcs.record_conditions(case_ref, [condition], actor=VLO_ACTOR)
        assert await until_quiet(env)
        await vcs.opt_out(victim_id, actor=VLO_ACTOR)
        sent = letters(engine, victim_id)
        told_on = release_told_on(ReleaseMonth.of(release), release, POLICY.bank_holidays)
        await run_until(env, told_on)
        assert await until_quiet(env)
        assert letters(engine, victim_id) == sent

        await vcs.opt_in(victim_id, ContactLevel.ALL_KEY_STAGES, actor=VLO_ACTOR)
        await eventually(
            lambda: (
                letters(engine, victim_id)[len(sent) :]
                == [LetterKind.OPT_IN_CONFIRMED, LetterKind.CONDITIONS_IMPOSED, LetterKind.RELEASE]
            )
        )


async def test_unanswered_offer_is_chased_then_closed_and_victim_may_opt_in_later(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """No answer: chase, then close the offer; a victim may opt in later (domain.md), and
    is then told everything they are owed so far (conditions, release month)."""
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    reg = registration(case_ref, today, term_months=36)
    release = reg.conditional_release_date
    assert release is not None
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg, actor=VLO_ACTOR)
        victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=VLO_ACTOR)
        await offered_and_opted_in(vcs, engine, victim_id, level=None)
        offered_on = london_date(await env.get_current_time())
        chase_on, close_on = chase_and_close(offered_on, current_policy())

        await run_until(env, chase_on, extra_days=0)
        await eventually(lambda: LetterKind.CHASE in letters(engine, victim_id))
        [chase_task] = tasks(engine, victim_id)
        assert chase_task.kind is TaskKind.CHASE_RESPONSE
        assert stage(engine, victim_id) is Stage.OFFERED

        await run_until(env, close_on, extra_days=0)
        await eventually(lambda: stage(engine, victim_id) is Stage.NO_RESPONSE)
        assert letters(engine, victim_id)[-1] is LetterKind.OFFER_CLOSED
        assert tasks(engine, victim_id) == []  # the chase task closed with the offer

        # Conditions are set and the offender released while the victim is out of touch.
        await run_until(env, release)
        await vcs.record_conditions(
            case_ref,
            [
                LicenceConditionBase(
                    kind=ConditionKind.EXCLUSION_ZONE,
                    description="Not to enter the area marked on the map",
                    victim_related=True,
                    starts_on=release,
                )
            ],
            actor=VLO_ACTOR,
        )
        await vcs.record_release(case_ref, release, actor=VLO_ACTOR)
        assert LetterKind.RELEASE not in letters(engine, victim_id)

        await vcs.opt_in(victim_id, ContactLevel.RELEASE_ONLY, actor=VLO_ACTOR)
        assert stage(engine, victim_id) is Stage.OPTED_IN
        # Caught up: the conditions about them and the release month, on a day that depends
        # on the month alone (conditions set in the release month are usually set on the day).
        now = london_date(await env.get_current_time())
        await run_until(
            env, release_told_on(ReleaseMonth.of(release), now, POLICY.bank_holidays), extra_days=0
        )
        await eventually(
            lambda: (
                letters(engine, victim_id)[-3:]
                == [LetterKind.OPT_IN_CONFIRMED, LetterKind.CONDITIONS_IMPOSED, LetterKind.RELEASE]
            )
        )
        # Representations are about conditions not yet set; after release they are closed.
        with pytest.raises(VcsError, match="released on licence"):
            await vcs.submit_representations(victim_id, "too late", actor=VLO_ACTOR)
        with session_scope(engine) as session:
            assert session.exec(select(Representation)).all() == []


async def test_release_brought_forward_tells_each_victim_still_to_reply_a_new_date(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """A release moved to another month after the invitation went out (DVCVA s 35: the victim
    must still be heard in time): a victim still to reply gets a letter with the new reply-by
    date (month-based, at least the minimum notice from that letter); a victim who has replied
    keeps what they did; a victim not yet in the scheme is invited with the new date when they
    opt in. Nothing already received is lost."""
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    reg = registration(case_ref, today, term_months=48)
    release = reg.conditional_release_date
    assert release is not None
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg, actor=VLO_ACTOR)
        replied, _ = await vcs.add_victim(case_ref, victim("Alice Example"), actor=VLO_ACTOR)
        waiting, _ = await vcs.add_victim(
            case_ref, victim("Bob Example", postcode="LS2 2BB"), actor=VLO_ACTOR
        )
        later, _ = await vcs.add_victim(
            case_ref, victim("Cat Example", postcode="LS3 3CC"), actor=VLO_ACTOR
        )
        await offered_and_opted_in(vcs, engine, replied, ContactLevel.ALL_KEY_STAGES)
        await offered_and_opted_in(vcs, engine, waiting, ContactLevel.ALL_KEY_STAGES)
        await offered_and_opted_in(vcs, engine, later, level=None)

        opens = representations_opens(ReleaseMonth.of(release), POLICY)
        await run_until(env, opens, extra_days=0)
        await eventually(lambda: len(tasks(engine, waiting)) == 1)
        first_reply_by = representations_reply_by(ReleaseMonth.of(release), opens, POLICY)
        [invitation] = letter_bodies(engine, waiting, LetterKind.REPRESENTATIONS_INVITED)
        assert full_date(first_reply_by) in invitation
        await vcs.submit_representations(replied, "No contact please.", actor=VLO_ACTOR)

        # Added days removed: release comes two months sooner.
        new_release = release - timedelta(days=60)
        await vcs.record_milestones(
            case_ref, {"conditional_release_date": new_release}, actor=VLO_ACTOR
        )
        now = london_date(await env.get_current_time())
        new_reply_by = representations_reply_by(ReleaseMonth.of(new_release), now, POLICY)
        assert new_reply_by != first_reply_by
        assert new_reply_by >= add_working_days(
            now, POLICY.representations_minimum_working_days, POLICY.bank_holidays
        )
        await eventually(
            lambda: len(letter_bodies(engine, waiting, LetterKind.REPRESENTATIONS_INVITED)) == 2
        )
        redated = letter_bodies(engine, waiting, LetterKind.REPRESENTATIONS_INVITED)[-1]
        assert full_date(new_reply_by) in redated and full_date(first_reply_by) not in redated
        assert f"{new_release:%B %Y}" in redated and "replaces" in redated
        vlo_due = representations_task_due(new_reply_by, new_release, now)
        await eventually(lambda: tasks(engine, waiting)[0].due_on == vlo_due)

        # The victim who replied keeps what they did: forwarded, no new letter, no new task.
        assert letters(engine, replied).count(LetterKind.REPRESENTATIONS_INVITED) == 1
        with session_scope(engine) as session:
            [rep] = session.exec(select(Representation)).all()
            assert rep.victim_id == replied and rep.forwarded_at is not None
        assert tasks(engine, replied) == []

        # A victim who opts in now is invited at once with the new month's date.
        await vcs.opt_in(later, ContactLevel.RELEASE_ONLY, actor=VLO_ACTOR)
        await eventually(lambda: LetterKind.REPRESENTATIONS_INVITED in letters(engine, later))
        [invited_late] = letter_bodies(engine, later, LetterKind.REPRESENTATIONS_INVITED)
        assert full_date(new_reply_by) in invited_late

        # Moved again, so soon that the minimum notice sets the date: a third letter. After it,
        # a change to another milestone or a move within the month sends nothing more.
        await run_until(env, now + timedelta(days=3), extra_days=0)
        now = london_date(await env.get_current_time())
        third = next(
            day
            for day in (now + timedelta(days=15), now + timedelta(days=45))
            if ReleaseMonth.of(day) != ReleaseMonth.of(new_release)
        )
        await vcs.record_milestones(case_ref, {"conditional_release_date": third}, actor=VLO_ACTOR)
        await eventually(
            lambda: len(letter_bodies(engine, waiting, LetterKind.REPRESENTATIONS_INVITED)) == 3
        )
        assert reg.licence_expiry_date is not None
        earlier_expiry = reg.licence_expiry_date - timedelta(days=30)
        await vcs.record_milestones(
            case_ref, {"licence_expiry_date": earlier_expiry}, actor=VLO_ACTOR
        )
        within = third + timedelta(days=1 if (third + timedelta(days=1)).day > 1 else -1)
        await vcs.record_milestones(case_ref, {"conditional_release_date": within}, actor=VLO_ACTOR)
        assert await until_quiet(env)
        assert letters(engine, waiting).count(LetterKind.REPRESENTATIONS_INVITED) == 3

        with pytest.raises(VcsError, match="sentence date cannot change"):
            await vcs.record_milestones(
                case_ref, {"sentence_date": today - timedelta(days=1)}, actor=VLO_ACTOR
            )
        assert reg.licence_expiry_date is not None
        too_late = reg.licence_expiry_date + timedelta(days=1)
        with pytest.raises(VcsError, match="after the licence expiry"):
            await vcs.record_milestones(
                case_ref, {"conditional_release_date": too_late}, actor=VLO_ACTOR
            )


async def test_two_releases_in_one_month_look_the_same_to_their_victims(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """Victims are told the release month only (domain.md 'Never disclosed to a victim'): two
    cases alike but for their release day (the 2nd and the 27th of one month), each recorded
    on its day with its licence conditions (one running 3 months from release) and a licence
    running 12 months, send their victims the same letters, word for word, on the same days:
    release, conditions, the condition's end, and the end of the scheme."""
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    first_of_month = (today + timedelta(days=400)).replace(day=1)
    early, late = first_of_month + timedelta(days=1), first_of_month + timedelta(days=26)
    cases = {early: unique_ref(), late: unique_ref()}

    def months_after(day: date, months: int) -> date:
        year, month = divmod(day.month - 1 + months, 12)
        return day.replace(year=day.year + year, month=month + 1)

    def conditions(release: date) -> list[LicenceConditionBase]:
        return [
            LicenceConditionBase(
                kind=ConditionKind.NO_CONTACT,
                description="Not to contact the victim directly or indirectly",
                victim_related=True,
                starts_on=release,
                ends_on=months_after(release, 3),
            )
        ]

    async with build_worker(env.client, engine, task_queue):
        victims: dict[date, int] = {}
        for release, case_ref in cases.items():
            licence = months_after(release, 12) - today
            reg = registration(
                case_ref,
                today,
                term_months=36,
                release_after=release - today,
                licence_after=licence,
            )
            await vcs.register_case(reg, actor=VLO_ACTOR)
            victims[release], _ = await vcs.add_victim(case_ref, victim(), actor=VLO_ACTOR)
            await offered_and_opted_in(vcs, engine, victims[release], ContactLevel.ALL_KEY_STAGES)

        def seen(release: date) -> list[str]:
            return letter_bodies(engine, victims[release], None)

        # Day by day from the invitation and through the release month, each victim has had
        # the same letters as the other at the end of every day.
        opens = representations_opens(ReleaseMonth.of(early), POLICY)
        await run_until(env, opens - timedelta(days=2))
        told_on = release_told_on(ReleaseMonth.of(early), early, POLICY.bank_holidays)
        days = [opens - timedelta(days=1), opens, opens + timedelta(days=1)]
        days += [early + timedelta(days=n) for n in range((told_on - early).days + 2)]
        # Then around each day that differs between the cases (a condition's end, the end of
        # the licence) and the day a letter about it is due, every day the letters could differ.
        for months in (3, 12):
            for release in cases:
                end = months_after(release, months)
                days += [end - timedelta(days=1), end, end + timedelta(days=1)]
            month_told = release_told_on(ReleaseMonth.of(end), end, POLICY.bank_holidays)
            days += [month_told - timedelta(days=1), month_told, month_told + timedelta(days=1)]
        for day in sorted(set(days)):
            await run_until(env, day, extra_days=0)
            for release, case_ref in cases.items():
                if release == day:
                    await vcs.record_release(case_ref, release, actor=VLO_ACTOR)
                    await vcs.record_conditions(case_ref, conditions(release), actor=VLO_ACTOR)
            assert await until_quiet(env)
            assert seen(early) == seen(late), day
        assert letters(engine, victims[late])[-4:] == [
            LetterKind.RELEASE,
            LetterKind.CONDITIONS_IMPOSED,
            LetterKind.CONDITION_ENDED,
            LetterKind.SCHEME_ENDED,
        ]
        [release_letter] = letter_bodies(engine, victims[late], LetterKind.RELEASE)
        assert f"{early:%B %Y}" in release_letter


async def test_two_victims_with_different_choices_are_told_different_things(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """Each victim has their own workflow: one's choice never leaks into another's."""
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    reg = registration(case_ref, today, term_months=24)
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg, actor=VLO_ACTOR)
        keen, _ = await vcs.add_victim(case_ref, victim("Carol Example"), actor=VLO_ACTOR)
        quiet, _ = await vcs.add_victim(
            case_ref, victim("Dan Example", postcode="LS3 3CC"), actor=VLO_ACTOR
        )
        yearly, _ = await vcs.add_victim(
            case_ref, victim("Erin Example", postcode="LS4 4DD"), actor=VLO_ACTOR
        )
        await offered_and_opted_in(vcs, engine, keen, ContactLevel.ALL_KEY_STAGES)
        await offered_and_opted_in(vcs, engine, quiet, level=None)
        await vcs.opt_out(quiet, actor=VLO_ACTOR)
        await offered_and_opted_in(vcs, engine, yearly, ContactLevel.ANNUAL)

        await run_until(env, today + timedelta(days=30))
        now = london_date(await env.get_current_time())
        await vcs.record_key_stage(case_ref, KeyStage.OPEN_CONDITIONS, now, actor=VLO_ACTOR)
        await vcs.record_key_stage(case_ref, KeyStage.ESCAPE, now, actor=VLO_ACTOR)
        await eventually(lambda: letters(engine, keen).count(LetterKind.KEY_STAGE) == 2)
        # EU Victims Directive art 6(5): escape reaches every victim in the scheme.
        await eventually(lambda: letters(engine, yearly).count(LetterKind.KEY_STAGE) == 1)
        with pytest.raises(VcsError, match="already recorded"):
            await vcs.record_key_stage(case_ref, KeyStage.ESCAPE, now, actor=VLO_ACTOR)

        await run_until(env, today + timedelta(days=366))
        await eventually(lambda: LetterKind.ANNUAL_UPDATE in letters(engine, yearly))
    assert LetterKind.ANNUAL_UPDATE not in letters(engine, keen)
    assert letters(engine, quiet) == [LetterKind.OFFER]


async def test_overdue_offer_task_escalates_level_by_level(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """Victims' Code 2020 Right 11: contact within 20 working days of referral. A VLO task
    not done by then goes to a senior VLO, then a manager: never forgotten."""
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    reg = registration(case_ref, today, term_months=24)
    # The test server's clock may be decades ahead of the real one (tests skip time): the case
    # counts working days over the bank holidays of the years around *its* today (a calendar
    # running out is renewed as a victim is added), so the expectation does too.
    policy = current_policy().model_copy(update={"calendar": calendar_for_new_work(today)})
    due = offer_due(today, policy)
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg, actor=VLO_ACTOR)
        victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=VLO_ACTOR)
        [offer] = await eventually(lambda: tasks(engine, victim_id))
        assert offer.due_on == due
        assert offer.assigned_to == "vlo.jones"

        await run_until(env, due, extra_days=1)
        await eventually(lambda: len(tasks(engine, victim_id)) == 2)
        escalation = tasks(engine, victim_id)[1]
        assert escalation.kind is TaskKind.ESCALATION
        assert escalation.assigned_to == "role:senior-vlo"
        assert escalation.escalates_task_id == offer.id

        await run_until(env, escalation.due_on, extra_days=1)
        await eventually(lambda: len(tasks(engine, victim_id)) == 3)
        assert tasks(engine, victim_id)[2].assigned_to == "role:vlo-manager"

        # Doing the work closes the task and every escalation raised about it.
        await vcs.complete_task(offer.id or 0, actor=VLO_ACTOR, outcome="visited victim")
        assert tasks(engine, victim_id) == []
        assert stage(engine, victim_id) is Stage.OFFERED


async def test_fifteen_year_sentence_runs_to_the_end_in_bounded_histories(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """Long sentences continue as new so no run's history grows without bound; the victim
    is carried through every year of it (annual letters) to the end of licence."""
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    reg = registration(case_ref, today, term_months=180)
    release, licence_end = reg.conditional_release_date, reg.licence_expiry_date
    assert release is not None and licence_end is not None
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg, actor=VLO_ACTOR)
        victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=VLO_ACTOR)
        await offered_and_opted_in(vcs, engine, victim_id, ContactLevel.ANNUAL)

        await run_until(env, release - timedelta(days=100))
        await eventually(lambda: LetterKind.REPRESENTATIONS_INVITED in letters(engine, victim_id))
        await vcs.submit_representations(victim_id, "No contact.", actor=VLO_ACTOR)
        await run_until(env, release)
        await vcs.record_release(case_ref, release, actor=VLO_ACTOR)
        await run_until(env, licence_end)
        await eventually(lambda: stage(engine, victim_id) is Stage.CLOSED)
        assert licence_end is not None  # the scheme-ended letter goes the month after
        ended = release_told_on(ReleaseMonth.of(licence_end), licence_end, POLICY.bank_holidays)
        await run_until(env, ended)
        await eventually(lambda: LetterKind.SCHEME_ENDED in letters(engine, victim_id))
        # The case's workflow ends once the last letter held for a victim has gone.
        assert await until_quiet(env)
        assert await workflow_status(env, case_workflow_id(case_ref)) == "COMPLETED"

    years = (licence_end - today).days // 365
    sent = letters(engine, victim_id)
    assert sent.count(LetterKind.ANNUAL_UPDATE) in (years - 1, years)
    assert sent[-1] is LetterKind.SCHEME_ENDED
    span_years = MAX_RUN_SPAN.days // 365
    for workflow in (case_workflow_id(case_ref),):
        runs = await run_lengths(env, workflow)
        assert len(runs) >= years // span_years  # a new run at least every four years
        assert max(runs) < 1_000, runs
