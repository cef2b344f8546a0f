"""One victim's workflow: holds the victim's path (workflows/victim_path.py) for the life of
the sentence, wakes when something on it falls due, and takes the case's events and the VLO's
actions one at a time."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.delivery import LetterUndelivered
    from models.handoff import ResponsibilityChange
    from models.hospital import NotifyHospital
    from models.ids import case_workflow_id
    from models.ids import victim_workflow_id as victim_workflow_id  # re-exported
    from models.messages import (
        ActionResult,
        CaseEvent,
        CompleteTask,
        OptIn,
        OptOut,
        SubmitRepresentations,
        VictimInput,
        VictimView,
    )
    from models.vocabulary import Stage

from workflows.common import (
    WakeTimer,
    renewed,
    should_continue_as_new,
    sleep_until,
)
from workflows.common import rejected as rejected  # explicitly re-exported: workflows use it
from workflows.search import Published
from workflows.victim_path import VictimPath


@workflow.defn(name="VictimContact")
class VictimWorkflow:
    @workflow.init
    def __init__(self, params: VictimInput) -> None:
        workflow_id = workflow.info().workflow_id
        self.path = VictimPath(params, owner_id=workflow_id, key_prefix=workflow_id)
        self.replan = False  # a VLO action changed what is due next: recompute the wake-up
        self.search = Published()
        self.wake_timer = WakeTimer()
        self.lock = asyncio.Lock()  # one change at a time: updates and the main loop

    # ---- main loop -----------------------------------------------------------------------

    @workflow.run
    async def run(self, params: VictimInput) -> Stage:
        run_started = workflow.now()
        path = self.path
        if params.state is None:
            async with self.lock:
                await path.identify()
        self._publish()
        while not path.closed():
            await sleep_until(
                path.next_wake(),
                run_started,
                lambda: self.replan or bool(path.inbox),
                self.wake_timer,
            )
            async with self.lock:
                self.replan = False
                while path.inbox:
                    await path.on_case_event(path.inbox.pop(0))
                await path.on_time_passing()
                self._publish()
            if not path.closed() and should_continue_as_new(run_started):
                policy = await renewed(path.params.policy)
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    path.params.model_copy(update={"state": path.state, "policy": policy})
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return path.state.stage

    def _publish(self) -> None:
        """Search attributes and the Web UI's 'current details': where this victim stands and
        what the workflow waits for (no personal data)."""
        p, s = self.path.params, self.path.state
        self.search.publish(
            who=f"Victim {p.victim_id} of case {p.case_ref}",
            case_ref=p.case_ref,
            stage=s.stage.value,
            provider=p.provider,
            region=p.region,
            due_dates=[t.due_on for t in s.tasks],
            upcoming=[(item.on, item.what) for item in self.path.view().scheduled],
            extra=f"{len(s.tasks)} open VLO task(s)",
        )

    @asynccontextmanager
    async def _vlo_action(self) -> AsyncIterator[None]:
        """One VLO action at a time; afterwards the main loop re-plans its timers (the action
        may have changed what falls due next) and ops see the new state."""
        async with self.lock:
            yield
            self.replan = True
            self._publish()

    # ---- messages from the case and the jobs -------------------------------------------------

    @workflow.signal
    def case_event(self, event: CaseEvent) -> None:
        self.path.inbox.append(event)

    @workflow.signal
    async def letter_undelivered(self, notice: LetterUndelivered) -> None:
        """The delivery-status job found this workflow's email or text failed
        (workflows/delivery.py)."""
        async with self._vlo_action():
            await self.path.undelivered(notice.kind, notice.key)

    @workflow.signal
    async def responsibility_changed(self, change: ResponsibilityChange) -> None:
        async with self._vlo_action():
            await self.path.hand_over(change)

    # ---- VLO actions (workflows/victim_path.py) -------------------------------------------------

    @workflow.update
    async def opt_in(self, action: OptIn) -> ActionResult:
        async with self._vlo_action():
            return await self.path.opt_in(action)

    @opt_in.validator
    def _check_opt_in(self, action: OptIn) -> None:
        self.path.check_opt_in(action)

    @workflow.update
    async def opt_out(self, action: OptOut) -> ActionResult:
        async with self._vlo_action():
            result = await self.path.opt_out(action)
            # An open Parole Board review closes this victim's tasks too (workflows/case.py).
            with contextlib.suppress(Exception):  # the case has ended: no review runs
                await workflow.get_external_workflow_handle(
                    case_workflow_id(self.path.params.case_ref)
                ).signal("victim_opted_out", self.path.params.victim_id)
            return result

    @opt_out.validator
    def _check_opt_out(self, action: OptOut) -> None:
        self.path.check_opt_out(action)

    @workflow.update
    async def submit_representations(self, action: SubmitRepresentations) -> ActionResult:
        async with self._vlo_action():
            return await self.path.submit_representations(action)

    @submit_representations.validator
    def _check_representations(self, action: SubmitRepresentations) -> None:
        self.path.check_representations(action)

    @workflow.update
    async def complete_task(self, action: CompleteTask) -> ActionResult:
        async with self._vlo_action():
            return await self.path.complete_task(action)

    @complete_task.validator
    def _check_complete_task(self, action: CompleteTask) -> None:
        self.path.check_complete_task(action)

    @workflow.update
    async def notify_hospital(self, action: NotifyHospital) -> ActionResult:
        async with self._vlo_action():
            return await self.path.notify_hospital(action)

    @notify_hospital.validator
    def _check_notify_hospital(self, action: NotifyHospital) -> None:
        self.path.check_notify_hospital(action)

    @workflow.query
    def view(self) -> VictimView:
        return self.path.view()
