"""Floor workflows: the least a Temporal workflow can do. Each benchmark measures ours against
one of these on the same server, in the same run, so the ratio is what our design costs.

Kept lean: the sandbox re-imports a workflow module's imports for every new workflow, so this
module imports nothing beyond temporalio (the same-shape floor's database activity lives in
bench/floor_activities.py, referred to here by name)."""

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow


@workflow.defn(name="BenchFloorCase")
class FloorCaseWorkflow:
    """One start and one update that just records a value: the floor under a VLO action."""

    def __init__(self) -> None:
        self.value: str | None = None

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.value is not None)
        return self.value or ""

    @workflow.update
    def record(self, value: str) -> str:
        self.value = value
        return value


# The same-shape floor (bench/floors.py): a case's shape with nothing of ours in it.
FLOOR_ACTIONS = 3  # after the start, as ours: add victim, complete the offer task, opt in
WRITE_ROW = "bench_floor_write_row"  # bench/floor_activities.py's local activity
WRITE_TIMEOUT = timedelta(seconds=10)  # as ours (workflows/common.py LOCAL_TIMEOUT)


@dataclass(frozen=True)
class FloorRow:
    """The one row an action writes: whose, and which action (IDs only)."""

    workflow_id: str
    action: int


@workflow.defn(name="BenchFloorRows")
class FloorRowsWorkflow:
    """Started by update-with-start (`opened`, as ours registers a case), then three updates
    (`act`), each writing one row through a local activity and answering once it is
    committed, as each VLO action of ours answers after its writes. Finishes after the third.
    """

    def __init__(self) -> None:
        self.taken = 0  # actions taken in (numbered on arrival, should two overlap)
        self.written = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(
            lambda: self.written >= FLOOR_ACTIONS and workflow.all_handlers_finished()
        )
        return self.written

    @workflow.update
    def opened(self) -> int:
        """The update sent with the start: answers at once."""
        return self.written

    @workflow.update
    async def act(self) -> int:
        """One action: one row written (a local activity in this workflow task)."""
        self.taken += 1
        action = self.taken
        await workflow.execute_local_activity(
            WRITE_ROW,
            FloorRow(workflow.info().workflow_id, action),
            start_to_close_timeout=WRITE_TIMEOUT,
            result_type=int,
        )
        self.written += 1
        return action


# The time-skipping test server caps every run at 10 years whatever the start asks for, so
# a longer sleep continues as new once per this many days.
MAX_SLEEP_DAYS = 3000.0


@workflow.defn(name="BenchFloorSleeper")
class FloorSleepWorkflow:
    """Sleeps a span on one timer (one per 3,000 days): the floor under a case waiting for
    years."""

    @workflow.run
    async def run(self, days: float) -> None:
        await workflow.sleep(timedelta(days=min(days, MAX_SLEEP_DAYS)))
        if days > MAX_SLEEP_DAYS:
            workflow.continue_as_new(days - MAX_SLEEP_DAYS)

    @workflow.query
    def ping(self) -> str:
        """Answered from a replay when the workflow is not in the worker's cache."""
        return "asleep"
