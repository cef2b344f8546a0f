"""A bulk transfer (ID vcs-bulk-transfer-<bulk id>): every open case of one provider moves to
another in one operation, as in the Unified Model of June 2021 (003_532a1c7aa3a81105.txt: all
CRC cases to the NPS).

A page of cases at a time (listed by an activity, in case-ID order after a cursor), one
hand-off per case, opened on the case's workflow by its `start_handoff` update (workflows/
case_handoffs.py: supply and accept done by the engine, and the bulk told). Each case's
hand-off is registered in the database, numbered per case, at most one open at a time, so a
re-run never moves a case twice: a moved case is no longer listed, and a case with a hand-off
in progress is skipped. The operator may pause and resume it, and sees progress by query.
It continues as new after every page, so its history stays bounded however many cases.

It never waits on a hand-off without a bound (HandoffPolicy.bulk_handoff_wait_minutes): one
still going after that is listed as *waiting* in the progress, escalated to the receiving
provider's hand-off manager, and watched while the bulk moves on; one that cannot finish is
withdrawn as failed by its case, and one whose case's workflow ended without reporting back
(it was terminated) is recorded as failed and withdrawn here, so its case is free for another
hand-off. The bulk finishes once every hand-off has an outcome.
"""

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.handoff import HandoffStarterActivities, HandoffStoreActivities
    from activities.tasks import TaskActivities
    from models.activity_requests import NewTask, TaskClosure
    from models.handoff import (
        BULK_ACTOR,
        BulkControl,
        BulkProgress,
        BulkTransferInput,
        BulkWaiting,
        CandidatePage,
        HandoffFinished,
        HandoffStart,
        HandoffWithdrawalRecord,
        Responsibility,
        TransferCandidate,
        WithdrawalReason,
        handoff_manager,
    )
    from models.messages import ActionResult, CompleteTask
    from models.tasks import TaskOwner
    from models.vocabulary import HandoffStep, TaskKind
    from models.working_days import add_working_days, required

from workflows.common import call, rejected, should_continue_as_new, today


@workflow.defn(name="BulkTransfer")
class BulkTransferWorkflow:
    @workflow.init
    def __init__(self, params: BulkTransferInput) -> None:
        self.params = params
        self.remaining: int | None = None
        self.in_flight: dict[str, BulkWaiting] = {}  # started on this run, not yet reported
        self.finished = False

    @workflow.run
    async def run(self, params: BulkTransferInput) -> BulkProgress:
        run_started = workflow.now()
        await workflow.wait_condition(lambda: not params.paused)
        page: CandidatePage = await call(
            HandoffStoreActivities.list_transfer_candidates,
            params.from_provider,
            params.after_case_id,
            params.page_size,
            summary=f"list cases after {params.after_case_id}",
        )
        self.remaining = len(page.cases) + page.remaining_after
        for case in page.cases:
            # Pausing takes effect between cases: the hand-offs already started finish.
            await workflow.wait_condition(lambda: not params.paused)
            await self._move(case)
            params.after_case_id = case.case_id
            self.remaining -= 1
        await self._wait_for_in_flight()
        params.pages += 1
        if page.remaining_after > 0:
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(params)
        self.remaining = 0
        # Every page is done: watch the hand-offs still waiting until each has an outcome,
        # looking again at each one every bound (one that ended without a word has failed).
        while params.waiting:
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: not params.waiting, timeout=self._bound())
            for waiting in list(params.waiting):
                await self._check(waiting)
            if params.waiting and should_continue_as_new(run_started):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(params)
        self.finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.progress()

    def _bound(self) -> timedelta:
        return timedelta(minutes=self.params.policy.bulk_handoff_wait_minutes)

    async def _wait_for_in_flight(self) -> None:
        """Wait for this page's hand-offs, but no longer than the bound: then look at each one
        still going (it is waiting, or it ended without reporting back)."""
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: not self.in_flight, timeout=self._bound())
        for entry in list(self.in_flight.values()):
            await self._check(entry)

    def _watching(self, handoff_id: str) -> bool:
        return handoff_id in self.in_flight or any(
            w.handoff_id == handoff_id for w in self.params.waiting
        )

    def _forget(self, handoff_id: str) -> BulkWaiting | None:
        entry = self.in_flight.pop(handoff_id, None)
        for waiting in list(self.params.waiting):
            if waiting.handoff_id == handoff_id:
                self.params.waiting.remove(waiting)
                entry = waiting
        return entry

    async def _check(self, entry: BulkWaiting) -> None:
        """A hand-off past its bound: still running -> waiting, escalated once; ended without
        reporting back -> failed, and withdrawn unless it switched (then it is done)."""
        hid = entry.handoff_id
        running = await call(
            HandoffStarterActivities.handoff_open_in_case,
            entry.case_ref,
            hid,
            summary=f"look at {entry.case_ref}",
        )
        if not self._watching(hid):
            return  # it reported back meanwhile
        if running:
            if self.in_flight.pop(hid, None) is not None:
                self.params.waiting.append(entry)
                await self._escalate(entry)
            return
        step = await self._withdraw_failed(entry)
        if self._forget(hid) is None:
            return
        if step is HandoffStep.SWITCHED:
            self.params.done += 1  # it switched, but its report never came
        else:
            self._failed(entry.case_ref)
        await self._close_escalation(entry, f"hand-off {step.value}")

    async def _withdraw_failed(self, entry: BulkWaiting) -> HandoffStep:
        """Recorded as failed, unless it switched: the step it ends in."""
        hid = entry.handoff_id
        ended = await call(
            HandoffStoreActivities.withdraw_handoff,
            HandoffWithdrawalRecord(
                idempotency_key=f"{workflow.info().workflow_id}:{hid}:failed",
                handoff_id=hid,
                case_id=entry.case_id,
                reason=WithdrawalReason.HANDOFF_FAILED,
                by=BULK_ACTOR,
            ),
            summary=f"record {entry.case_ref} failed",
        )
        return HandoffStep(ended)

    def _failed(self, case_ref: str) -> None:
        self.params.failed += 1
        self.params.failures.append(case_ref)

    async def _escalate(self, entry: BulkWaiting) -> None:
        """Local policy (HandoffPolicy): a bulk hand-off past its bound goes to the receiving
        provider's hand-off manager, like any missed hand-off step (workflows/handoff_path.py)."""
        p = self.params
        role = handoff_manager(p.to_provider.value)
        workflow_id = workflow.info().workflow_id
        task_id = await call(
            TaskActivities.open_task,
            NewTask(
                owner=TaskOwner(
                    workflow_id=workflow_id, case_id=entry.case_id, responsible_vlo=role
                ),
                task_key=f"{workflow_id}:{entry.handoff_id}:waiting",
                kind=TaskKind.ESCALATION,
                title=f"Bulk transfer {p.bulk_id}: hand-off {entry.handoff_id} of case "
                f"{entry.case_ref} not finished within {p.policy.bulk_handoff_wait_minutes} "
                "minutes: look at the hand-off",
                assigned_to=role,
                due_on=add_working_days(
                    today(), p.policy.escalation_due_working_days, required(p.calendar)
                ),
                escalation_level=1,
            ),
            summary=f"escalate {entry.case_ref}",
        )
        entry.escalation_task_id = task_id
        if not self._watching(entry.handoff_id):  # it reported back while the task opened
            await self._close_escalation(entry, "hand-off reported back")

    async def _close_escalation(self, entry: BulkWaiting, outcome: str) -> None:
        if entry.escalation_task_id is None:
            return
        await call(
            TaskActivities.close_tasks,
            TaskClosure(
                idempotency_key=f"{workflow.info().workflow_id}:{entry.handoff_id}:waiting:closed",
                case_id=entry.case_id,
                task_ids=[entry.escalation_task_id],
                by=BULK_ACTOR,
                outcome=outcome,
            ),
            summary=f"close escalation of {entry.case_ref}",
        )

    async def _move(self, case: TransferCandidate) -> None:
        p = self.params
        if case.open_handoff is not None:
            p.skipped += 1  # a hand-off already in progress (this run's, a VLO's, an earlier run)
            return
        sender = Responsibility(
            provider=case.provider, region=case.region, vlo=case.responsible_vlo
        )
        receiver = Responsibility(
            provider=p.to_provider, region=case.region, vlo=p.to_vlo or case.responsible_vlo
        )
        start = HandoffStart(
            request_key=f"bulk:{p.bulk_id}:{case.case_ref}",
            case_ref=case.case_ref,
            case_id=case.case_id,
            reason=p.reason,
            sender=sender,
            receiver=receiver,
            requested_by=p.requested_by,
            policy=p.policy,
            bulk_id=p.bulk_id,
            notify_workflow_id=workflow.info().workflow_id,
        )
        try:
            handoff_id = await call(
                HandoffStoreActivities.register_handoff, start, summary=f"register {case.case_ref}"
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == "HandoffInProgress":
                p.skipped += 1
                return
            if isinstance(cause, ApplicationError) and cause.type == "DataError":
                self._failed(case.case_ref)
                return
            raise
        entry = BulkWaiting(
            handoff_id=handoff_id, case_ref=case.case_ref, case_id=case.case_id, since=today()
        )
        self.in_flight[handoff_id] = entry
        try:
            await call(
                HandoffStarterActivities.start_case_handoff,
                start.registered(handoff_id),
                summary=f"hand off {case.case_ref}",
            )
        except ActivityError as err:
            cause = err.cause
            if not (isinstance(cause, ApplicationError) and cause.type == "DataError"):
                raise
            # Its case refused it (closed meanwhile, or its workflow gone): failed, and free.
            if self._forget(handoff_id) is not None:
                await self._withdraw_failed(entry)
                self._failed(case.case_ref)

    @workflow.signal
    async def handoff_finished(self, finished: HandoffFinished) -> None:
        entry = self._forget(finished.handoff_id)
        if entry is None:
            return
        if finished.switched:
            self.params.done += 1
        elif finished.withdrawn:
            self.params.withdrawn += 1
        else:
            self._failed(finished.case_ref)
        outcome = "switched" if finished.switched else "ended without a switch"
        await self._close_escalation(entry, f"hand-off {outcome}")

    @workflow.update
    def complete_task(self, action: CompleteTask) -> ActionResult:
        raise rejected(self._escalation_note(action.task_id))

    @complete_task.validator
    def _check_complete_task(self, action: CompleteTask) -> None:
        raise rejected(self._escalation_note(action.task_id))

    def _escalation_note(self, task_id: int) -> str:
        """`complete-task` on the bulk's escalation: say what closes it instead."""
        entry = next((w for w in self.params.waiting if w.escalation_task_id == task_id), None)
        if entry is None:
            return f"task {task_id} is not an open task of bulk transfer {self.params.bulk_id}"
        return (
            f"task {task_id} watches hand-off {entry.handoff_id} of case {entry.case_ref}: it "
            "closes itself when the hand-off finishes, or is recorded as failed if its case's "
            "workflow has ended"
        )

    @workflow.update
    def pause(self, control: BulkControl) -> ActionResult:
        self.params.paused = True
        workflow.logger.info("bulk transfer paused by %s", control.by)
        return ActionResult(message=f"bulk transfer {self.params.bulk_id} paused")

    @pause.validator
    def _check_pause(self, control: BulkControl) -> None:
        if self.finished:
            raise rejected(f"bulk transfer {self.params.bulk_id} has finished")
        if self.params.paused:
            raise rejected(f"bulk transfer {self.params.bulk_id} is already paused")

    @workflow.update
    def resume(self, control: BulkControl) -> ActionResult:
        self.params.paused = False
        workflow.logger.info("bulk transfer resumed by %s", control.by)
        return ActionResult(message=f"bulk transfer {self.params.bulk_id} resumed")

    @resume.validator
    def _check_resume(self, control: BulkControl) -> None:
        if not self.params.paused:
            raise rejected(f"bulk transfer {self.params.bulk_id} is not paused")

    @workflow.query
    def progress(self) -> BulkProgress:
        p = self.params
        return BulkProgress(
            bulk_id=p.bulk_id,
            from_provider=p.from_provider,
            to_provider=p.to_provider,
            done=p.done,
            skipped=p.skipped,
            failed=p.failed,
            remaining=self.remaining,
            in_flight=len(self.in_flight),
            paused=p.paused,
            finished=self.finished,
            failures=list(p.failures),
            withdrawn=p.withdrawn,
            waiting=list(p.waiting),
        )
