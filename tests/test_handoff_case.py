"""A hand-off held by its case's workflow (workflows/handoff_path.py): it outlives the case's
closing, as it did when it ran on its own, until it is switched or withdrawn."""

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from models.handoff import WithdrawalReason
from models.ids import case_workflow_id
from models.vocabulary import HandoffReason, HandoffStep, KeyStage, Provider, TaskKind
from models.working_days import london_date
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.helpers import MANAGER_ACTOR, eventually, registration, workflow_status
from tests.test_handoff import NEW_VLO, REGION, open_case_tasks, settled_worker

pytestmark = pytest.mark.usefixtures("cleanup_workflows")


async def test_a_handoff_open_when_its_case_closes_goes_on_until_it_is_withdrawn(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    async with settled_worker(env, engine, task_queue):
        await vcs.register_case(
            registration(case_ref, today, term_months=24, provider=Provider.CRC),
            actor=MANAGER_ACTOR,
        )
        await vcs.request_handoff(
            case_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, NEW_VLO, MANAGER_ACTOR
        )
        handoff_id = vcs.handoff_of(None, case_ref)
        await eventually(lambda: open_case_tasks(engine, case_ref))
        await vcs.record_key_stage(case_ref, KeyStage.DEATH, today, MANAGER_ACTOR)
        assert (await vcs.case_view(case_ref, MANAGER_ACTOR)).closed
        # The case's workflow holds the hand-off still: it is shown, and it can be withdrawn.
        view = await vcs.handoff_view(handoff_id, MANAGER_ACTOR)
        assert view.step is HandoffStep.REQUESTED
        [supply] = open_case_tasks(engine, case_ref)
        assert supply.kind is TaskKind.HANDOFF_SUPPLY
        assert await workflow_status(env, case_workflow_id(case_ref)) != "COMPLETED"
        await vcs.handoff_withdraw(
            handoff_id, WithdrawalReason.CIRCUMSTANCES_CHANGED, MANAGER_ACTOR
        )
        assert open_case_tasks(engine, case_ref) == []

        async def completed() -> bool:
            return await workflow_status(env, case_workflow_id(case_ref)) == "COMPLETED"

        for _ in range(100):
            if await completed():
                break
            await env.sleep(1)
        assert await completed()
