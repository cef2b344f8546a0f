"""One Parole Board review of a case (ID vcs-parole-<case ref>-<n>), a child of the case: the
workflow that runs the review's plain code (workflows/review_path.py, review_hearing.py,
review_steps.py) under its lock, wakes at the dates the review gives, and tells the case the
outcome."""

import contextlib
from datetime import date, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.delivery import LetterUndelivered
    from models.handoff import ResponsibilityChange
    from models.messages import ActionResult, CompleteTask
    from models.parole import (
        AdjournHearing,
        ParoleInput,
        ParoleVictimAction,
        ParoleView,
        RecordParoleDecision,
        RecordReadDecision,
        SetHearing,
        SubmitParoleRepresentations,
        SubmitVps,
    )
    from models.policy import Policy

from workflows.review_steps import ReviewSteps
from workflows.skeleton import Skeleton

REVIEW_RUN_SPAN = timedelta(days=365)


@workflow.defn(name="ParoleReview")
class ParoleReviewWorkflow(Skeleton):
    @workflow.init
    def __init__(self, params: ParoleInput) -> None:
        self.params = params
        self.referred = params.state is not None
        self._start_skeleton()
        wid = workflow.info().workflow_id
        self.review = ReviewSteps(params, review_id=wid, owner_id=wid)

    @workflow.run
    async def run(self, params: ParoleInput) -> str:
        run_started = workflow.now()
        if not self.referred:
            async with self.lock:
                await self.review.refer()
                self.referred = True
        # A review keeps a yearly run: it lasts months, and a year bounds the history of one
        # adjourned again and again (workflows/skeleton.py).
        await self._run_loop(run_started, REVIEW_RUN_SPAN)
        decision = self.review.state.decision
        return decision.outcome.value if decision else "ended"

    def _finished(self) -> bool:
        return self.review.state.finished

    def _ready(self) -> bool:
        """Actions wait for the referral's letters and tasks."""
        return self.referred

    def _policy(self) -> Policy:
        return self.params.policy

    def _next_run(self, policy: Policy) -> ParoleInput:
        return self.params.model_copy(update={"state": self.review.state, "policy": policy})

    def _publish(self) -> None:
        """Search attributes and 'current details' for ops (IDs, stages and dates only)."""
        s, r = self.review.state, self.review
        self.search.publish(
            who=f"Parole review {r.review_id} of case {self.params.case_ref}",
            case_ref=self.params.case_ref,
            stage=r.stage(),
            provider=self.params.provider,
            region=self.params.region,
            due_dates=[t.due_on for t in s.tasks],
            upcoming=r.scheduled(),
            extra=f"{len(s.statements)} VPS received; {len(s.tasks)} open VLO task(s)",
        )

    def _next_wake(self) -> date | None:
        return self.review.next_wake()

    async def _on_time_passing(self) -> None:
        await self.review.on_time_passing()

    # ---- messages from the case and the delivery job ---------------------------------------

    @workflow.signal
    async def letter_undelivered(self, notice: LetterUndelivered) -> None:
        async with self._vlo_action():
            await self.review.undelivered(notice)

    @workflow.signal
    async def responsibility_changed(self, change: ResponsibilityChange) -> None:
        async with self._vlo_action():
            await self.review.hand_over(change)

    @workflow.signal
    async def case_closed(self, reason: str) -> None:
        async with self._vlo_action():
            await self.review.end(reason)

    @workflow.signal
    async def victim_left(self, victim_id: int) -> None:
        async with self._vlo_action():
            await self.review.victim_left(victim_id)

    # ---- VLO actions ---------------------------------------------------------------------

    @workflow.update
    async def submit_vps(self, action: SubmitVps) -> ActionResult:
        async with self._vlo_action():
            return await self.review.submit_vps(action)

    @submit_vps.validator
    def _check_vps(self, action: SubmitVps) -> None:
        self.review.check_vps(action)

    @workflow.update
    async def submit_representations(self, action: SubmitParoleRepresentations) -> ActionResult:
        async with self._vlo_action():
            return await self.review.submit_representations(action)

    @submit_representations.validator
    def _check_representations(self, action: SubmitParoleRepresentations) -> None:
        self.review.check_representations(action)

    @workflow.update
    async def apply_to_read(self, action: ParoleVictimAction) -> ActionResult:
        async with self._vlo_action():
            return await self.review.apply_to_read(action)

    @apply_to_read.validator
    def _check_apply_to_read(self, action: ParoleVictimAction) -> None:
        self.review.check_apply_to_read(action)

    @workflow.update
    async def record_read_decision(self, action: RecordReadDecision) -> ActionResult:
        async with self._vlo_action():
            return await self.review.record_read_decision(action)

    @record_read_decision.validator
    def _check_read_decision(self, action: RecordReadDecision) -> None:
        self.review.check_read_decision(action)

    @workflow.update
    async def set_hearing(self, action: SetHearing) -> ActionResult:
        async with self._vlo_action():
            return await self.review.set_hearing(action)

    @set_hearing.validator
    def _check_set_hearing(self, action: SetHearing) -> None:
        self.review.check_set_hearing(action)

    @workflow.update
    async def adjourn(self, action: AdjournHearing) -> ActionResult:
        async with self._vlo_action():
            return await self.review.adjourn(action)

    @adjourn.validator
    def _check_adjourn(self, action: AdjournHearing) -> None:
        self.review.check_adjourn(action)

    @workflow.update
    async def record_decision(self, action: RecordParoleDecision) -> ActionResult:
        async with self._vlo_action():
            result = await self.review.record_decision(action)
            with contextlib.suppress(Exception):  # the case has closed: nothing more to record
                await workflow.get_external_workflow_handle(self.params.case_workflow_id).signal(
                    "parole_outcome", self.review.decided()
                )
            return result

    @record_decision.validator
    def _check_decision(self, action: RecordParoleDecision) -> None:
        self.review.check_decision(action)

    @workflow.update
    async def request_summary(self, action: ParoleVictimAction) -> ActionResult:
        async with self._vlo_action():
            return await self.review.request_summary(action)

    @request_summary.validator
    def _check_summary(self, action: ParoleVictimAction) -> None:
        self.review.check_summary(action)

    @workflow.update
    async def complete_task(self, action: CompleteTask) -> ActionResult:
        async with self._vlo_action():
            return await self.review.complete_task(action)

    @complete_task.validator
    def _check_complete_task(self, action: CompleteTask) -> None:
        self.review.check_complete_task(action)

    @workflow.query
    def view(self) -> ParoleView:
        return self.review.view()
