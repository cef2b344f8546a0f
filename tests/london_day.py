"""A workflow that reports the engine's today() and how sleep_until wakes (tests/test_days.py).
Its own module: the sandbox re-imports a workflow's module, which must import only what
workflow code may."""

from datetime import datetime, timedelta

from temporalio import workflow

from workflows.common import WakeTimer, sleep_until, today


@workflow.defn(name="TestLondonDay")
class LondonDayWorkflow:
    """Waits until `at`, says what today() is then, and sleeps until the next day begins."""

    @workflow.run
    async def run(self, at: str) -> list[str]:
        await workflow.sleep(datetime.fromisoformat(at) - workflow.now())
        day = today()
        await sleep_until(day + timedelta(days=1), workflow.now(), lambda: False, WakeTimer())
        return [day.isoformat(), workflow.now().isoformat()]
