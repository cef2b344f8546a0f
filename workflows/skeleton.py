"""The shape every long-running workflow here shares, written once (../shared/design.md): one
lock, a changed flag, a VLO's action taken under the lock, what ops see published after each
change, and the run loop that sleeps until the next date anything falls due, acts, and continues
as new when the server suggests it or the run has lasted long enough.

A workflow says what is its own: `_publish` (search attributes and current details),
`_next_wake`, `_on_time_passing`, `_finished`, the input of its next run (`_next_run`), and, if
an action must wait for something first, `_ready`.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.policy import Policy

from workflows.common import WakeTimer, renewed, should_continue_as_new, sleep_until
from workflows.search import Published
from workflows.steps import unit_of_work


class Skeleton:
    def _start_skeleton(self) -> None:
        """Call from the workflow's @workflow.init."""
        # One change at a time: the main loop's turns and every update or signal that changes
        # state hold it across their awaits (activities), so none sees another's half-done.
        self.lock = asyncio.Lock()
        self.changed = False  # an action changed what falls due next: the loop re-plans
        self.search = Published()
        self.wake_timer = WakeTimer()

    # ---- what each workflow says ------------------------------------------------------------

    def _publish(self) -> None:
        raise NotImplementedError

    def _next_wake(self) -> date | None:
        raise NotImplementedError

    async def _on_time_passing(self) -> None:
        raise NotImplementedError

    def _finished(self) -> bool:
        raise NotImplementedError

    def _next_run(self, policy: Policy) -> BaseModel:
        """The input of the run this one continues as (its state, the renewed policy)."""
        raise NotImplementedError

    def _policy(self) -> Policy:
        raise NotImplementedError

    def _ready(self) -> bool:
        """Whether an action may be taken yet (e.g. the workflow's first steps are done)."""
        return True

    # ---- the shared shape -------------------------------------------------------------------

    @asynccontextmanager
    async def _vlo_action(self) -> AsyncIterator[None]:
        """One action at a time; afterwards the loop re-plans its timer (the action may have
        changed what falls due next) and ops see the new state. Its database steps are written
        together, in one local activity, as it ends (workflows/steps.py)."""
        await workflow.wait_condition(self._ready)
        async with self.lock:
            async with unit_of_work():
                yield
            self.changed = True
            self._publish()

    async def _run_loop(self, run_started: datetime, span: timedelta | None = None) -> None:
        """Until finished: sleep until the next date due (or a change), act under the lock,
        publish; continue as new on the server's suggestion or after `span` (common.py), once
        every handler has finished."""
        self._publish()
        while not self._finished():
            await sleep_until(self._next_wake(), run_started, lambda: self.changed, self.wake_timer)
            async with self.lock:
                self.changed = False
                async with unit_of_work():  # the turn's steps: one local activity
                    await self._on_time_passing()
                self._publish()
            if not self._finished() and should_continue_as_new(run_started, span):
                policy = await renewed(self._policy())
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._next_run(policy))
        await workflow.wait_condition(workflow.all_handlers_finished)
