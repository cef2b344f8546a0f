"""Parole Board reviews, held by their case's workflow (workflows/case_parole.py,
case_reviews.py; domain.md 'Parole')."""

from datetime import date

from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from models.errors import UnavailableError, VcsError
from models.messages import (
    ActionResult,
)
from models.parole import (
    AdjournHearing,
    ParoleTimetable,
    ParoleVictimAction,
    ParoleView,
    RecordParoleDecision,
    RecordReadDecision,
    ReferParole,
    SetHearing,
    SubmitParoleRepresentations,
    SubmitVps,
    parole_review_id,
)
from models.parole_repository import add_vps, find_vps, withdraw_vps
from models.representation_repository import (
    add_representation,
    find_representation,
    withdraw_representation,
)
from models.victim_repository import victim_case_ref
from models.vocabulary import (
    ParoleOutcome,
)
from service.access import Action
from service.actor import Actor
from service.temporal import ServiceBase, unavailable
from workflows.case import CaseWorkflow, case_workflow_id


class ParoleActions(ServiceBase):
    async def refer_parole(
        self, case_ref: str, timetable: ParoleTimetable, actor: Actor
    ) -> ActionResult:
        self._case(actor, Action.RECORD_PAROLE_STEP, case_ref)
        return await self._update(
            case_workflow_id(case_ref),
            CaseWorkflow.refer_parole,
            ReferParole(timetable=timetable, by=actor.id),
        )

    async def _review(
        self, actor: Actor, action: Action, case_ref: str, review_id: str | None
    ) -> tuple[str, str]:
        """The case's workflow (which holds its reviews) and the review named (it must be the
        case's), else the case's latest review, once the actor is allowed this action on the
        case."""
        self._case(actor, action, case_ref)
        if review_id is not None:
            prefix, _, number = review_id.rpartition("-")
            if prefix != parole_review_id(case_ref, 0).rpartition("-")[0] or not number.isdigit():
                raise VcsError(f"{review_id} is not a parole review of case {case_ref}")
            return case_workflow_id(case_ref), review_id
        view = await self._case_view(case_ref)
        if view.latest_parole_review is None:
            raise VcsError(
                f"case {case_ref} has no parole review: refer the case to the Parole Board first"
            )
        return case_workflow_id(case_ref), view.latest_parole_review

    async def _victim_review(
        self, actor: Actor, victim_id: int, review_id: str | None
    ) -> tuple[str, str]:
        case_ref = victim_case_ref(self.engine, victim_id)
        return await self._review(actor, Action.RECORD_PAROLE_STEP, case_ref, review_id)

    async def submit_vps(
        self, victim_id: int, text: str, checked: bool, actor: Actor, review_id: str | None = None
    ) -> ActionResult:
        """Store the VPS (encrypted) and send its ID to the review. A VLO repeating the command
        after a time-out does not send it twice: the same words from the same victim for the
        same review are the same VPS; a refused VPS is removed again."""
        case, review = await self._victim_review(actor, victim_id, review_id)
        vps_id = find_vps(self.engine, review, victim_id, text)
        if vps_id is None:
            vps_id = add_vps(self.engine, review, victim_id, text, actor.id)
        try:
            return await self._update(
                case,
                CaseWorkflow.parole_submit_vps,
                SubmitVps(
                    review_id=review,
                    victim_id=victim_id,
                    vps_id=vps_id,
                    checked_no_release_view=checked,
                    by=actor.id,
                ),
            )
        except UnavailableError:
            raise  # the update may still land: keep the row it refers to
        except VcsError as err:
            if f"VPS {vps_id} was already received" in str(err):
                return ActionResult(message=f"VPS {vps_id} was already received and sent")
            withdraw_vps(self.engine, vps_id)
            raise

    async def submit_parole_representations(
        self, victim_id: int, text: str, actor: Actor, review_id: str | None = None
    ) -> ActionResult:
        case, review = await self._victim_review(actor, victim_id, review_id)
        rep_id = find_representation(self.engine, victim_id, text)
        if rep_id is None:
            rep_id = add_representation(self.engine, victim_id, text)
        try:
            return await self._update(
                case,
                CaseWorkflow.parole_submit_representations,
                SubmitParoleRepresentations(
                    review_id=review, victim_id=victim_id, representation_id=rep_id, by=actor.id
                ),
            )
        except UnavailableError:
            raise
        except VcsError as err:
            if "already submitted" in str(err):
                return ActionResult(message=f"representation {rep_id} was already submitted")
            withdraw_representation(self.engine, rep_id)
            raise

    async def apply_to_read(
        self, victim_id: int, actor: Actor, review_id: str | None = None
    ) -> ActionResult:
        case, review = await self._victim_review(actor, victim_id, review_id)
        return await self._update(
            case,
            CaseWorkflow.parole_apply_to_read,
            ParoleVictimAction(review_id=review, victim_id=victim_id, by=actor.id),
        )

    async def record_read_decision(
        self, victim_id: int, granted: bool, actor: Actor, review_id: str | None = None
    ) -> ActionResult:
        case, review = await self._victim_review(actor, victim_id, review_id)
        return await self._update(
            case,
            CaseWorkflow.parole_record_read_decision,
            RecordReadDecision(review_id=review, victim_id=victim_id, granted=granted, by=actor.id),
        )

    async def set_hearing(
        self, case_ref: str, on: date, oral: bool, actor: Actor, review_id: str | None = None
    ) -> ActionResult:
        case, review = await self._review(actor, Action.RECORD_PAROLE_STEP, case_ref, review_id)
        return await self._update(
            case,
            CaseWorkflow.parole_set_hearing,
            SetHearing(review_id=review, hearing_on=on, oral_hearing=oral, by=actor.id),
        )

    async def adjourn_hearing(
        self,
        case_ref: str,
        hearing_on: date | None,
        vps_due_on: date | None,
        actor: Actor,
        review_id: str | None = None,
    ) -> ActionResult:
        case, review = await self._review(actor, Action.RECORD_PAROLE_STEP, case_ref, review_id)
        return await self._update(
            case,
            CaseWorkflow.parole_adjourn,
            AdjournHearing(
                review_id=review, hearing_on=hearing_on, vps_due_on=vps_due_on, by=actor.id
            ),
        )

    async def record_parole_decision(
        self,
        case_ref: str,
        outcome: ParoleOutcome,
        decided_on: date,
        next_review_on: date | None,
        actor: Actor,
        review_id: str | None = None,
    ) -> ActionResult:
        case, review = await self._review(actor, Action.RECORD_PAROLE_STEP, case_ref, review_id)
        return await self._update(
            case,
            CaseWorkflow.parole_record_decision,
            RecordParoleDecision(
                review_id=review,
                outcome=outcome,
                decided_on=decided_on,
                next_review_on=next_review_on,
                by=actor.id,
            ),
        )

    async def request_decision_summary(
        self, victim_id: int, actor: Actor, review_id: str | None = None
    ) -> ActionResult:
        case, review = await self._victim_review(actor, victim_id, review_id)
        return await self._update(
            case,
            CaseWorkflow.parole_request_summary,
            ParoleVictimAction(review_id=review, victim_id=victim_id, by=actor.id),
        )

    async def parole_view(
        self, case_ref: str, actor: Actor, review_id: str | None = None
    ) -> ParoleView:
        case, review = await self._review(actor, Action.VIEW_CASE, case_ref, review_id)
        try:
            view: ParoleView = await self.client.get_workflow_handle(case).query(
                CaseWorkflow.parole_view, review
            )
        except WorkflowQueryFailedError as err:
            raise VcsError(str(err)) from None
        except RPCError as err:
            raise unavailable(err, case) from None
        return view
