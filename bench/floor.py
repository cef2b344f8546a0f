"""Floor workflows: the least a Temporal workflow can do. Each benchmark measures ours against
one of these on the same server, in the same run, so the ratio is what our design costs."""

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
