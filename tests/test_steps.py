"""A workflow task's steps written together (workflows/steps.py, activities/steps.py)."""

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from activities.notify import DEFAULT_TIMEOUT_SECONDS
from activities.steps import letters_time
from models.deadlines import representations_opens
from models.messages import SubmitRepresentations
from models.policy import current_policy
from models.release_month import ReleaseMonth
from models.representation_repository import add_representation
from models.steps import Step
from models.vocabulary import ContactLevel, LetterKind, TaskKind
from models.working_days import london_date
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.helpers import (
    VLO_ACTOR,
    eventually,
    letters,
    offered_and_opted_in,
    registration,
    run_until,
    tasks,
    victim,
)
from worker import build_worker
from workflows.case import CaseWorkflow, case_workflow_id


def test_a_release_told_to_many_victims_has_time_for_each_letter() -> None:
    """Letters go through Notify one after another once the steps are committed: the steps'
    time limit grows with them, so thirty victims told by email are not cut off and tried
    again; a batch with no letter keeps the database's short limit."""
    letter = Step(activity="send_letter", request={})
    task = Step(activity="open_task", request={})
    assert letters_time([task, task]) == timedelta(0)
    per_letter = timedelta(seconds=2 * DEFAULT_TIMEOUT_SECONDS)
    assert letters_time([task, *[letter] * 30]) == 30 * per_letter


@pytest.mark.usefixtures("cleanup_workflows")
async def test_representations_refused_by_the_database_change_nothing(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """A VLO action whose writes the database refuses changes neither the workflow nor the
    rows: the victim's task stays completable and the right action still goes through."""
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    reg = registration(case_ref, today, term_months=48)
    assert reg.conditional_release_date is not None
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg, actor=VLO_ACTOR)
        first, _ = await vcs.add_victim(case_ref, victim("Alice Example"), actor=VLO_ACTOR)
        second, _ = await vcs.add_victim(
            case_ref, victim("Bob Example", postcode="LS2 2BB"), actor=VLO_ACTOR
        )
        for victim_id in (first, second):
            await offered_and_opted_in(vcs, engine, victim_id, ContactLevel.ALL_KEY_STAGES)
        opens = representations_opens(
            ReleaseMonth.of(reg.conditional_release_date), current_policy()
        )
        await run_until(env, opens, extra_days=0)
        [waiting] = await eventually(lambda: tasks(engine, first))
        assert waiting.kind is TaskKind.DISCUSS_REPRESENTATIONS

        # The first victim's action naming the second victim's words: the database refuses
        # to forward them as the first's (a raw update: the service never sends one).
        theirs = add_representation(engine, second, "Not the first victim's words.")
        with pytest.raises(WorkflowUpdateFailedError):
            await env.client.get_workflow_handle(case_workflow_id(case_ref)).execute_update(
                CaseWorkflow.submit_representations,
                SubmitRepresentations(victim_id=first, representation_id=theirs, by="vlo.jones"),
            )
        assert [t.id for t in tasks(engine, first)] == [waiting.id]
        assert LetterKind.REPRESENTATIONS_RECEIVED not in letters(engine, first)

        # Nothing was half done: the first victim's own words still go through, closing the
        # task the refused action had not closed.
        await vcs.submit_representations(first, "My own words.", actor=VLO_ACTOR)
        assert tasks(engine, first) == []
        assert LetterKind.REPRESENTATIONS_RECEIVED in letters(engine, first)
