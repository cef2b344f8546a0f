"""Ops find cases in the Web UI by search attributes: case reference, stage, provider, region,
next deadline, and "everything overdue" in one query."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from models.vocabulary import ContactLevel
from models.working_days import london_today
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.helpers import eventually, registration, stage, tasks, victim, vlo_actor
from worker import build_worker
from workflows.case import case_workflow_id


async def ids_matching(client: Client, query: str, expected: set[str]) -> set[str]:
    """Visibility is eventually consistent: poll until the query returns `expected`."""
    found: set[str] = set()
    for _ in range(100):
        found = {wf.id async for wf in client.list_workflows(query)}
        if found == expected:
            return found
        await asyncio.sleep(0.2)
    return found


async def test_ops_find_cases_by_reference_stage_region_and_overdue_deadline(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    client = local_env.client
    vcs = Vcs(client, engine, task_queue)
    today = london_today()
    late_ref, fresh_ref = unique_ref("LATE"), unique_ref("NEW")
    region = f"Region {unique_ref()}"  # unique, so other tests' workflows never match
    vlo = vlo_actor(region=region)
    async with build_worker(client, engine, task_queue):
        # Sentenced four months ago and nobody has offered the scheme: overdue.
        await vcs.register_case(
            registration(late_ref, today - timedelta(days=120), region=region), actor=vlo
        )
        late_victim, _ = await vcs.add_victim(late_ref, victim(), actor=vlo)
        await vcs.register_case(registration(fresh_ref, today, region=region), actor=vlo)
        fresh_victim, _ = await vcs.add_victim(fresh_ref, victim(), actor=vlo)
        await eventually(lambda: len(tasks(engine, late_victim)) == 2)  # offer + escalation
        await eventually(lambda: stage(engine, fresh_victim) is not None)

        late_wf, fresh_wf = case_workflow_id(late_ref), case_workflow_id(fresh_ref)
        by_ref = await ids_matching(client, f'VcsCaseRef = "{late_ref}"', {late_wf})
        assert by_ref == {late_wf}

        # A case is overdue when any task on it is, a victim's among them.
        now = datetime.now(UTC).isoformat()
        overdue = await ids_matching(
            client,
            f'VcsRegion = "{region}" AND VcsNextDeadline < "{now}" AND ExecutionStatus = "Running"',
            {late_wf},
        )
        assert overdue == {late_wf}

        await vcs.opt_in(fresh_victim, ContactLevel.ANNUAL, actor=vlo)
        custody = await ids_matching(
            client,
            f'VcsProvider = "NPS" AND VcsRegion = "{region}" AND VcsStage = "in_custody"',
            {late_wf, fresh_wf},
        )
        assert custody == {late_wf, fresh_wf}

        # The Web UI shows each case's current state in words, its victims' stages among them,
        # without personal data.
        metadata = await client.get_workflow_handle(fresh_wf).query(
            "__temporal_workflow_metadata", result_type=WorkflowMetadata
        )
        assert f"Case {fresh_ref} ({region})" in metadata.current_details
        assert "1 victim(s): 1 opted_in" in metadata.current_details
        assert "Alice" not in metadata.current_details
        for wf_id in (late_ref, fresh_ref):
            await client.get_workflow_handle(case_workflow_id(wf_id)).terminate("test done")
