"""The VLO's steps on one of the case's Parole Board reviews (workflows/review_steps.py), each
an update of the case's workflow naming the review (and the victim where it is theirs): mixed
into CaseWorkflow (workflows/case.py) beside workflows/case_parole.py."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.messages import ActionResult
    from models.parole import (
        AdjournHearing,
        ParoleVictimAction,
        ParoleView,
        RecordParoleDecision,
        RecordReadDecision,
        SetHearing,
        SubmitParoleRepresentations,
        SubmitVps,
    )

from workflows.case_host import CaseHost
from workflows.common import rejected
from workflows.review_steps import ReviewSteps


class CaseReviews(CaseHost):
    def _review(self, review_id: str) -> ReviewSteps:
        if self.state is None:
            raise rejected(f"case {self.params.case_ref} is still starting: try again")
        review = self.reviews.get(review_id)
        if review is None:
            raise rejected(f"{review_id} is not a parole review of case {self.params.case_ref}")
        return review

    def _task_review(self, task_id: int) -> ReviewSteps | None:
        """The review holding this task open, if one does."""
        return next((r for r in self.reviews.values() if r.tasks.find(task_id)), None)

    @workflow.update
    async def parole_submit_vps(self, action: SubmitVps) -> ActionResult:
        async with self._vlo_action():
            review = self._review(action.review_id)
            review.check_vps(action)
            return await review.submit_vps(action)

    @parole_submit_vps.validator
    def _check_parole_vps(self, action: SubmitVps) -> None:
        self._review(action.review_id).check_vps(action)

    @workflow.update
    async def parole_submit_representations(
        self, action: SubmitParoleRepresentations
    ) -> ActionResult:
        async with self._vlo_action():
            review = self._review(action.review_id)
            review.check_representations(action)
            return await review.submit_representations(action)

    @parole_submit_representations.validator
    def _check_parole_representations(self, action: SubmitParoleRepresentations) -> None:
        self._review(action.review_id).check_representations(action)

    @workflow.update
    async def parole_apply_to_read(self, action: ParoleVictimAction) -> ActionResult:
        async with self._vlo_action():
            review = self._review(action.review_id)
            review.check_apply_to_read(action)
            return await review.apply_to_read(action)

    @parole_apply_to_read.validator
    def _check_parole_apply_to_read(self, action: ParoleVictimAction) -> None:
        self._review(action.review_id).check_apply_to_read(action)

    @workflow.update
    async def parole_record_read_decision(self, action: RecordReadDecision) -> ActionResult:
        async with self._vlo_action():
            review = self._review(action.review_id)
            review.check_read_decision(action)
            return await review.record_read_decision(action)

    @parole_record_read_decision.validator
    def _check_parole_read_decision(self, action: RecordReadDecision) -> None:
        self._review(action.review_id).check_read_decision(action)

    @workflow.update
    async def parole_set_hearing(self, action: SetHearing) -> ActionResult:
        async with self._vlo_action():
            review = self._review(action.review_id)
            review.check_set_hearing(action)
            return await review.set_hearing(action)

    @parole_set_hearing.validator
    def _check_parole_set_hearing(self, action: SetHearing) -> None:
        self._review(action.review_id).check_set_hearing(action)

    @workflow.update
    async def parole_adjourn(self, action: AdjournHearing) -> ActionResult:
        async with self._vlo_action():
            review = self._review(action.review_id)
            review.check_adjourn(action)
            return await review.adjourn(action)

    @parole_adjourn.validator
    def _check_parole_adjourn(self, action: AdjournHearing) -> None:
        self._review(action.review_id).check_adjourn(action)

    @workflow.update
    async def parole_record_decision(self, action: RecordParoleDecision) -> ActionResult:
        """The review tells the victims in the scheme; the case records the outcome."""
        async with self._vlo_action():
            review = self._review(action.review_id)
            review.check_decision(action)
            result = await review.record_decision(action)
            decided = review.decided()
            assert decided is not None
            await self._parole_outcome(decided)
            return result

    @parole_record_decision.validator
    def _check_parole_decision(self, action: RecordParoleDecision) -> None:
        self._review(action.review_id).check_decision(action)

    @workflow.update
    async def parole_request_summary(self, action: ParoleVictimAction) -> ActionResult:
        async with self._vlo_action():
            review = self._review(action.review_id)
            review.check_summary(action)
            return await review.request_summary(action)

    @parole_request_summary.validator
    def _check_parole_summary(self, action: ParoleVictimAction) -> None:
        self._review(action.review_id).check_summary(action)

    @workflow.query
    def parole_view(self, review_id: str) -> ParoleView:
        return self._review(review_id).view()
