"""The benchmarks' same-shape floor (bench/floor.py) does the work it stands for: opened by
update-with-start, then three actions, each one row written in the case database."""

import uuid

from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from bench.floor_activities import (
    build_floor_worker,
    create_floor_table,
    drive_floor_case,
    drop_floor_table,
    rows_written,
)


async def test_the_floor_writes_one_row_for_each_of_its_three_actions(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    client = time_skipping_env.client
    create_floor_table(engine)
    try:
        async with build_floor_worker(client, engine, task_queue):
            workflow_id = f"bench-floor-{uuid.uuid4().hex[:8]}"
            case = await drive_floor_case(client, task_queue, workflow_id)
            assert len(case.actions) == 3
            assert rows_written(engine, workflow_id) == 3
            assert await client.get_workflow_handle(workflow_id).result() == 3
    finally:
        drop_floor_table(engine)
