"""A VLO completing a task on the case, whichever part holds it (the case, a Parole Board
review, the hand-off or a victim's path): mixed into CaseWorkflow (workflows/case.py)."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.messages import ActionResult, CompleteTask

from workflows.case_host import CaseHost
from workflows.case_release import CONFIRM_RELEASE_TASK
from workflows.common import next_note


class CaseTasks(CaseHost):
    @workflow.update
    async def complete_task(self, action: CompleteTask) -> ActionResult:
        """A task of the case, of one of its Parole Board reviews (workflows/review_path.py),
        of its hand-off (workflows/handoff_path.py) or of one of its victims."""
        async with self._vlo_action():
            review = self._task_review(action.task_id) or self._task_handoff(action.task_id)
            if review is not None:
                review.check_complete_task(action)
                return await review.complete_task(action)
            victim = self._task_victim(action)
            if victim is not None:
                return await victim.complete_task(action)
            self._check_complete_task(action)
            task = await self.tasks.complete(action, f"case {self.params.case_ref}")
            follows = (
                "record the release itself next: that tells the victims"
                if task.key == CONFIRM_RELEASE_TASK
                else next_note(self.view().scheduled)
            )
            return ActionResult(
                message=f"task {action.task_id} completed (case {self.params.case_ref}); {follows}"
            )

    @complete_task.validator
    def _check_complete_task(self, action: CompleteTask) -> None:
        handoff = self._task_handoff(action.task_id)
        if handoff is not None:  # it goes on after its case closes (workflows/case_handoffs.py)
            handoff.check_complete_task(action)
            return
        self._open_state()
        review = self._task_review(action.task_id)
        victim = self._task_victim(action)
        if review is not None:
            review.check_complete_task(action)
        elif victim is not None:
            victim.check_complete_task(action)
        else:
            self.tasks.open_task_of(action.task_id, f"case {self.params.case_ref}")
