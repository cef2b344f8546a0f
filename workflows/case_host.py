"""What CaseWorkflow (workflows/case.py) gives the mixins it is made of (case_parole.py,
case_reviews.py, case_handoffs.py, case_victims.py, hospital.py), declared once for the type
checker. At run time the base is empty: nothing here runs, so nothing changes in a history."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager
    from datetime import date

    from models.audit import AuditDetail
    from models.messages import CaseInput, CaseState
    from models.parole import ParoleDecided
    from models.vocabulary import KeyStage
    from workflows.common import ENGINE_ACTOR
    from workflows.review_steps import ReviewSteps
    from workflows.tasks import TaskBook
    from workflows.victim_path import VictimPath


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

        # workflows/case_parole.py
        def _running_reviews(self) -> list[ReviewSteps]: ...

        async def _parole_outcome(self, decided: ParoleDecided) -> None: ...

        async def _victim_left(self, victim_id: int) -> None: ...
