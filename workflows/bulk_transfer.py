"""A bulk transfer (ID vcs-bulk-transfer-<bulk id>): every open case of one provider moves to
another in one operation, as in the Unified Model of June 2021 (003_532a1c7aa3a81105.txt: all
CRC cases to the NPS).

A page of cases at a time (listed by an activity, in case-ID order after a cursor), one
hand-off per case (workflows/handoff.py, with supply and accept done by the engine). Each case's
hand-off is registered in the database, numbered per case, at most one open at a time, so a
re-run never moves a case twice: a moved case is no longer listed, and a case with a hand-off
in progress is skipped. The operator may pause and resume it, and sees progress by query.
It continues as new after every page, so its history stays bounded however many cases.
"""

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.handoff import HandoffStarterActivities, HandoffStoreActivities
    from models.handoff import (
        BulkControl,
        BulkProgress,
        BulkTransferInput,
        CandidatePage,
        HandoffFinished,
        HandoffInput,
        HandoffPolicy,
        HandoffStart,
        Responsibility,
        TransferCandidate,
    )
    from models.messages import ActionResult

from workflows.common import call
from workflows.victim import rejected


@workflow.defn(name="BulkTransfer")
class BulkTransferWorkflow:
    @workflow.init
    def __init__(self, params: BulkTransferInput) -> None:
        self.params = params
        self.remaining: int | None = None
        self.in_flight: set[str] = set()
        self.finished = False

    @workflow.run
    async def run(self, params: BulkTransferInput) -> BulkProgress:
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
        await workflow.wait_condition(lambda: not self.in_flight)
        params.pages += 1
        if page.remaining_after > 0:
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(params)
        self.finished = True
        self.remaining = 0
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.progress()

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
            policy=HandoffPolicy(),
            bulk_id=p.bulk_id,
            notify_workflow_id=workflow.info().workflow_id,
        )
        try:
            handoff_id = await call(
                HandoffStoreActivities.register_handoff, start, summary=f"register {case.case_ref}"
            )
            self.in_flight.add(handoff_id)
            await call(
                HandoffStarterActivities.start_handoff_workflow,
                HandoffInput(
                    handoff_id=handoff_id,
                    **start.model_dump(exclude={"request_key"}),
                ),
                summary=f"hand off {case.case_ref}",
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == "HandoffInProgress":
                p.skipped += 1
                return
            if isinstance(cause, ApplicationError) and cause.type == "DataError":
                p.failed += 1
                p.failures.append(case.case_ref)
                return
            raise

    @workflow.signal
    def handoff_finished(self, finished: HandoffFinished) -> None:
        if finished.handoff_id in self.in_flight:
            self.in_flight.discard(finished.handoff_id)
            if finished.switched:
                self.params.done += 1
            else:
                self.params.failed += 1
                self.params.failures.append(finished.case_ref)

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
        )
