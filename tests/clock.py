"""A workflow that always has a timer pending. The time-skipping server only jumps to the next
timer; once every case has ended it would otherwise let time pass at wall-clock speed."""

from datetime import timedelta

from temporalio import workflow


@workflow.defn(name="TestClock")
class ClockWorkflow:
    @workflow.run
    async def run(self) -> None:
        while True:
            await workflow.sleep(timedelta(days=30))
