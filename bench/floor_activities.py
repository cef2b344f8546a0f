"""Everything of the same-shape floor (bench/floor.py FloorRowsWorkflow) outside its workflow
module: its database activity (one row a floor action, in a bench-only table of the case
database, through the same engine settings as ours: models.db.make_engine), its worker, and
the client's calls. Imports nothing of bench.common, so the tests can use it."""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
)
from temporalio import activity
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from bench.floor import FLOOR_ACTIONS, WRITE_ROW, FloorRow, FloorRowsWorkflow
from worker import (
    MAX_CACHED_WORKFLOWS,
    MAX_CONCURRENT_ACTIVITIES,
    MAX_CONCURRENT_WORKFLOW_TASKS,
    SANDBOX,
)

FLOOR_TABLE = "bench_floor_rows"  # never one of ours: dropped when the benchmark ends

_metadata = MetaData()
floor_rows = Table(
    FLOOR_TABLE,
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workflow_id", String(200), nullable=False),
    Column("action", Integer, nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
)


def create_floor_table(engine: Engine) -> None:
    _metadata.create_all(engine)


def drop_floor_table(engine: Engine) -> None:
    _metadata.drop_all(engine)


def rows_written(engine: Engine, workflow_id: str | None = None) -> int:
    """Rows the floor wrote (for one workflow, or all)."""
    query = select(func.count()).select_from(floor_rows)
    if workflow_id is not None:
        query = query.where(floor_rows.c.workflow_id == workflow_id)
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


class FloorActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name=WRITE_ROW)
    def write_row(self, row: FloorRow) -> int:
        """One committed insert: the least a database-backed action does."""
        with self.engine.begin() as connection:
            result = connection.execute(
                insert(floor_rows).values(
                    workflow_id=row.workflow_id, action=row.action, written_at=datetime.now(UTC)
                )
            )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def build_floor_worker(client: Client, engine: Engine, task_queue: str) -> Worker:
    """The floor's worker, configured as ours (worker.build_worker): the same sandbox, cache,
    thread pool for synchronous activities, activity and workflow task slots."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[FloorRowsWorkflow],
        workflow_runner=SANDBOX,
        activities=[FloorActivities(engine).write_row],
        activity_executor=ThreadPoolExecutor(MAX_CONCURRENT_ACTIVITIES),
        max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
        max_cached_workflows=MAX_CACHED_WORKFLOWS,
        max_concurrent_workflow_tasks=MAX_CONCURRENT_WORKFLOW_TASKS,
    )


@dataclass
class FloorCase:
    """One floor case's client calls, wall time in seconds."""

    workflow_id: str
    open: float  # update-with-start
    actions: list[float]  # the three updates, each writing its row

    @property
    def whole(self) -> float:
        return self.open + sum(self.actions)


async def drive_floor_case(client: Client, task_queue: str, workflow_id: str) -> FloorCase:
    """Open the floor's workflow by update-with-start (as ours registers a case: the workflow
    is started if it is not running), then its three actions, one after another."""
    start = WithStartWorkflowOperation(
        FloorRowsWorkflow.run,
        id=workflow_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    t0 = time.perf_counter()
    await client.execute_update_with_start_workflow(
        FloorRowsWorkflow.opened, start_workflow_operation=start
    )
    opened = time.perf_counter() - t0
    handle = await start.workflow_handle()
    actions = []
    for _ in range(FLOOR_ACTIONS):
        t0 = time.perf_counter()
        await handle.execute_update(FloorRowsWorkflow.act)
        actions.append(time.perf_counter() - t0)
    return FloorCase(workflow_id, opened, actions)
