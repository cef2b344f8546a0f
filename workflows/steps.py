"""A workflow task's database steps as one local activity: one transaction, one commit, its
audit entries sealed once (activities/steps.py). Each extra local activity costs the worker
about 5 ms and every transaction its own chain lock, seal and commit
(bench/WHERE-THE-TIME-GOES.md), so a VLO's action and each turn of the run loop collect the
steps they take (`step`) and write them together at the end (`unit_of_work`, in
workflows/skeleton.py).

A step whose result the workflow needs at once (a new task's ID: `step_result`), or a read
(`call`), first writes what is pending, in one local activity with it where it can, so the
database sees every step in the order the workflow took them. Outside a unit of work a step is
written at once, as before. Steps carry IDs, kinds and dates only, as every activity's input.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.steps import REQUESTS, StepsActivities, letters_time
    from models.steps import Step, StepResult

from workflows import common

OnRejected = Callable[[], Awaitable[object]]
STEPS_ID = "steps:"


class _Pending:
    def __init__(self, step: Step, summary: str, on_rejected: OnRejected | None) -> None:
        self.step, self.summary, self.on_rejected = step, summary, on_rejected
        self.result: StepResult | None = None


class _Unit:
    def __init__(self) -> None:
        self.pending: list[_Pending] = []

    async def flush(self) -> None:
        """Write what is pending; a letter Notify refused then gets its task (more steps)."""
        while self.pending:
            batch, self.pending = self.pending, []
            steps = [p.step for p in batch]
            results: list[StepResult] = await common.call(
                StepsActivities.apply,
                steps,
                summary="; ".join(p.summary for p in batch)[:200],
                # The steps' activities, for whoever reads the history (tests/helpers.py).
                local_id=f"{STEPS_ID}{','.join(p.step.activity for p in batch)}"[:900],
                extra_time=letters_time(steps),
            )
            for pending, result in zip(batch, results, strict=True):
                pending.result = result
            for pending in batch:
                assert pending.result is not None
                if pending.result.rejected and pending.on_rejected is not None:
                    await pending.on_rejected()


# The unit of work of the handler or loop turn running (each is its own asyncio task).
_UNIT: ContextVar[_Unit | None] = ContextVar("vcs_unit_of_work", default=None)


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[None]:
    """The steps taken inside are written together when it ends (inside another: with its)."""
    if _UNIT.get() is not None:
        yield
        return
    unit = _Unit()
    token = _UNIT.set(unit)
    try:
        try:
            yield
        except Exception:
            await unit.flush()  # the steps taken before a refusal or failure stand, as taken
            raise
        await unit.flush()
    finally:
        _UNIT.reset(token)


async def step(
    activity_method: Callable[..., Any],
    request: BaseModel,
    *,
    summary: str,
    on_rejected: OnRejected | None = None,
    now: bool = False,
) -> None:
    """A database step (an activity of activities/steps.py REQUESTS), written with the rest of
    the unit of work. `on_rejected`: for a letter, what to do if Notify refuses it. `now`: a
    step that may refuse the action (a data error), written before the workflow changes its
    state."""
    await _add(activity_method, request, summary, on_rejected, now)


async def step_result(
    activity_method: Callable[..., Any], request: BaseModel, *, summary: str
) -> int:
    """A step whose result (an ID) the workflow needs now: written at once, with what is pending."""
    pending = await _add(activity_method, request, summary, None, now=True)
    assert pending.result is not None and pending.result.value is not None
    return pending.result.value


async def written() -> None:
    """Write what is pending now: before telling another workflow what the steps did."""
    unit = _UNIT.get()
    if unit is not None:
        await unit.flush()


async def call(activity_method: Callable[..., Any], *args: Any, summary: str | None = None) -> Any:
    """Any other activity (a read, or a write that returns more than an ID): what is pending is
    written first."""
    await written()
    return await common.call(activity_method, *args, summary=summary)


async def _add(
    activity_method: Callable[..., Any],
    request: BaseModel,
    summary: str,
    on_rejected: OnRejected | None,
    now: bool = False,
) -> _Pending:
    name = getattr(activity_method, "__name__", "")
    assert name in REQUESTS, f"{name} is not a step: use call"
    pending = _Pending(
        Step(activity=name, request=request.model_dump(mode="json")), summary, on_rejected
    )
    unit = _UNIT.get()
    if unit is None:
        async with unit_of_work():
            return await _add(activity_method, request, summary, on_rejected, now)
    unit.pending.append(pending)
    if now:
        await unit.flush()
    return pending
