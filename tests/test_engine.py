"""The engine (workflows/common.py), as ops and the bill see it: a VLO's action is answered in
the workflow task that took it in, with its steps run as local activities; the case's wake-up
timer is kept while its date stands; adding a victim answers with the offer task it opened."""

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from models.records import LicenceConditionBase
from models.vocabulary import ConditionKind, LetterKind, Stage, TaskKind
from models.working_days import london_date
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.helpers import (
    VLO_ACTOR,
    activity_calls,
    eventually,
    letters,
    registration,
    stage,
    tasks,
    victim,
)
from worker import build_worker
from workflows.case import case_workflow_id
from workflows.search import NEXT_DEADLINE, STAGE

pytestmark = pytest.mark.usefixtures("cleanup_workflows")

E = EventType


def kinds(history: WorkflowHistory) -> list[int]:
    return [e.event_type for e in history.events]


def updates_answered_in_their_own_task(history: WorkflowHistory) -> list[bool]:
    """For each update: was it completed by the workflow task that accepted it (no task
    completed between its acceptance and its completion)?"""
    answered = []
    since_accepted: list[int] | None = None
    for event in history.events:
        if event.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            since_accepted = []
        elif event.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            assert since_accepted is not None
            answered.append(E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED not in since_accepted)
            since_accepted = None
        elif since_accepted is not None:
            since_accepted.append(event.event_type)
    return answered


async def test_vlo_actions_run_their_steps_locally_and_keep_the_wake_up_timer(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref("ENG")
    reg = registration(case_ref, today, term_months=24)
    release = reg.conditional_release_date
    assert release is not None
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg, actor=VLO_ACTOR)
        # The case starts with its search attributes: registering it upserts nothing.
        case_handle = env.client.get_workflow_handle(case_workflow_id(case_ref))
        registered = await case_handle.fetch_history()
        assert E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES not in kinds(registered)
        described = await case_handle.describe()
        assert described.typed_search_attributes.get(STAGE) == "in_custody"
        victim_id, added = await vcs.add_victim(case_ref, victim(), actor=VLO_ACTOR)
        [offer_task] = await eventually(lambda: tasks(engine, victim_id))
        assert offer_task.kind is TaskKind.OFFER_SCHEME
        # Adding the victim answers with the offer task their path opened.
        assert (added.offer_task_id, added.offer_due) == (offer_task.id, offer_task.due_on)

        # The case carries its victims' deadlines: the offer task's is the case's next.
        described = await case_handle.describe()
        deadline = described.typed_search_attributes.get(NEXT_DEADLINE)
        assert deadline is not None and deadline.date() == offer_task.due_on

        await vcs.complete_task(offer_task.id or 0, actor=VLO_ACTOR, outcome="phoned victim")
        assert stage(engine, victim_id) is Stage.OFFERED
        assert LetterKind.OFFER in letters(engine, victim_id)  # done before the answer

        before = kinds(await case_handle.fetch_history())
        # Conditions recorded before release leave the case's next date (release) as it is.
        await vcs.record_conditions(
            case_ref,
            [
                LicenceConditionBase(
                    kind=ConditionKind.OTHER,
                    description="Attend drug testing",
                    victim_related=False,
                    starts_on=release,
                )
            ],
            actor=VLO_ACTOR,
        )
        await env.sleep(timedelta(days=1))
        case_history = await case_handle.fetch_history()

    after = kinds(case_history)[len(before) :]
    assert E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED in after
    assert E.EVENT_TYPE_TIMER_STARTED not in after and E.EVENT_TYPE_TIMER_CANCELED not in after
    assert E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in kinds(case_history)
    assert activity_calls(case_history)  # all of them local activities
    assert "send_letter" in activity_calls(case_history)
    # Every update after the registration (add the victim, complete the offer task, record
    # conditions) was answered in the workflow task that took it in.
    answered = updates_answered_in_their_own_task(case_history)
    assert len(answered) == 4 and all(answered[1:])
