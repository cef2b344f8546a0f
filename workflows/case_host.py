"""What CaseWorkflow (workflows/case.py) gives the mixins it is made of (case_release.py,
case_key_stages.py, case_tasks.py, case_dhr.py, case_view.py, case_parole.py, case_reviews.py,
case_handoffs.py, case_victims.py, hospital.py), declared once for the type checker. At run
time the base is empty: nothing here runs, so nothing changes in a history."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager
    from datetime import date
    from typing import Protocol

    from models.audit import AuditDetail
    from models.messages import ActionResult, CaseView, CompleteTask
    from models.parole import ParoleDecided
    from models.vocabulary import KeyStage
    from models.workflow_state import CaseInput, CaseState
    from workflows.common import ENGINE_ACTOR
    from workflows.review_steps import ReviewSteps
    from workflows.tasks import TaskBook
    from workflows.victim_path import VictimPath

    class TaskHolder(Protocol):
        """A part of the case holding an open task that completing it acts on (a hand-off's
        step: workflows/case_handoffs.py HandoffTask)."""

        def check_complete_task(self, action: CompleteTask) -> None: ...

        async def complete_task(self, action: CompleteTask) -> ActionResult: ...


class CaseHost:
    if TYPE_CHECKING:
        state: CaseState | None
        params: CaseInput
        case_id: int
        responsible_vlo: str
        victims: dict[int, VictimPath]  # workflows/case_victims.py
        reviews: dict[str, ReviewSteps]  # workflows/case_parole.py

        @property
        def tasks(self) -> TaskBook: ...

        def _vlo_action(self) -> AbstractAsyncContextManager[None]: ...  # workflows/skeleton.py

        def _open_state(self) -> CaseState: ...

        async def _audit(
            self, action: str, by: str, detail: AuditDetail, note: str = ""
        ) -> None: ...

        async def _broadcast(self, kind: str, **fields: object) -> None: ...

        async def _close(
            self, ended_by: KeyStage | None = None, on: date | None = None, by: str = ENGINE_ACTOR
        ) -> None: ...

        def view(self) -> CaseView: ...  # workflows/case_view.py

        # workflows/case_parole.py
        def _running_reviews(self) -> list[ReviewSteps]: ...

        async def _parole_outcome(self, decided: ParoleDecided) -> None: ...

        async def _victim_left(self, victim_id: int) -> None: ...

        async def _end_open_review_on_release(self) -> None: ...

        async def _follow_parole_eligibility(self, by: str) -> None: ...

        def _parole_preparation_ahead(self) -> tuple[date, date] | None: ...

        # whichever part holds a task open (workflows/case_tasks.py)
        def _task_review(self, task_id: int) -> ReviewSteps | None: ...  # case_reviews.py

        def _task_handoff(self, task_id: int) -> TaskHolder | None: ...  # case_handoffs.py

        def _task_victim(self, action: CompleteTask) -> VictimPath | None: ...  # case_victims.py
