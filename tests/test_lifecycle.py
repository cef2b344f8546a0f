"""The custodial lifecycle end to end, under the time-skipping test server."""

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from models.db import session_scope
from models.records import LicenceConditionBase, Representation
from models.vocabulary import ConditionKind, ContactLevel, LetterKind, Stage, TaskKind
from starter import Vcs
from tests.conftest import unique_ref
from tests.helpers import (
    eventually,
    letter_bodies,
    letters,
    registration,
    run_until,
    stage,
    tasks,
    victim,
    workflow_status,
)
from worker import build_worker


async def test_opted_in_victim_is_carried_from_offer_to_the_end_of_licence(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = (await env.get_current_time()).date()
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    reg = registration(case_ref, today, term_months=24)
    release = reg.conditional_release_date
    assert release is not None
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg, by="vlo.jones")
        victim_id, workflow_id = await vcs.add_victim(case_ref, victim(), by="vlo.jones")
        [offer_task] = await eventually(lambda: tasks(engine, victim_id))
        assert offer_task.kind is TaskKind.OFFER_SCHEME

        await vcs.complete_task(offer_task.id or 0, by="vlo.jones", outcome="phoned victim")
        assert stage(engine, victim_id) is Stage.OFFERED
        await vcs.opt_in(victim_id, ContactLevel.ALL_KEY_STAGES, by="vlo.jones")
        assert stage(engine, victim_id) is Stage.OPTED_IN

        # The representations window opens on a timer before the release milestone.
        await env.sleep(timedelta(days=(release - today).days - 119))
        await eventually(lambda: LetterKind.REPRESENTATIONS_INVITED in letters(engine, victim_id))
        await vcs.submit_representations(
            victim_id, "Please keep him away from my street.", by="vlo.jones"
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
            by="vlo.jones",
        )
        await eventually(lambda: LetterKind.CONDITIONS_IMPOSED in letters(engine, victim_id))
        [conditions_letter] = letter_bodies(engine, victim_id, LetterKind.CONDITIONS_IMPOSED)
        assert "Not to contact the victim" in conditions_letter
        assert "drug testing" not in conditions_letter  # s 35(7): only victim-related ones

        now = (await env.get_current_time()).date()
        await env.sleep(timedelta(days=(release - now).days + 1))
        await vcs.record_release(case_ref, release, by="vlo.jones")
        await eventually(lambda: LetterKind.RELEASE in letters(engine, victim_id))
        [release_letter] = letter_bodies(engine, victim_id, LetterKind.RELEASE)
        assert release.strftime("%B %Y") in release_letter
        assert release.isoformat() not in release_letter
        assert f"{release.day} {release:%B}" not in release_letter

        await run_until(env, reg.licence_expiry_date)
        await eventually(lambda: stage(engine, victim_id) is Stage.CLOSED)
        assert await workflow_status(env, workflow_id) == "COMPLETED"
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
