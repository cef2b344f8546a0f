"""Provider hand-offs, each held by its case's workflow (workflows/case_handoffs.py), and bulk
transfers (workflows/bulk_transfer.py)."""

from datetime import date

from sqlmodel import col, select
from temporalio.client import WorkflowQueryFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from models.bank_holidays import calendar_for_new_work
from models.case_repository import case_by_ref
from models.db import session_scope
from models.errors import VcsError
from models.handoff import (
    ENDED_STEPS,
    BulkControl,
    BulkProgress,
    BulkTransferInput,
    CaseHandoff,
    HandoffAction,
    HandoffView,
    HandoffWithdrawal,
    ReportCrcEvent,
    RequestHandoff,
    WithdrawalReason,
    bulk_workflow_id,
    row_view,
)
from models.messages import (
    ActionResult,
)
from models.vocabulary import (
    CrcEventKind,
    HandoffReason,
    Provider,
)
from service.access import Action
from service.actor import Actor
from service.queries import checked
from service.temporal import ServiceBase, unavailable
from workflows.bulk_transfer import BulkTransferWorkflow
from workflows.case import CaseWorkflow, case_workflow_id


class HandoffActions(ServiceBase):
    def handoff_of(self, handoff_id: str | None, case_ref: str | None) -> str:
        """The hand-off named, or the latest of a case."""
        if handoff_id:
            return handoff_id
        assert case_ref is not None
        case = case_by_ref(self.engine, case_ref)
        with session_scope(self.engine) as session:
            row = session.exec(
                select(CaseHandoff)
                .where(CaseHandoff.case_id == case.id)
                .order_by(col(CaseHandoff.number).desc())
            ).first()
        if row is None:
            raise VcsError(f"case {case_ref} has no hand-off")
        return row.handoff_id

    async def request_handoff(
        self,
        case_ref: str,
        reason: HandoffReason,
        to_provider: Provider,
        to_region: str,
        to_vlo: str,
        actor: Actor,
    ) -> ActionResult:
        self._case(actor, Action.HAND_OFF, case_ref)
        return await self._update(
            case_workflow_id(case_ref),
            CaseWorkflow.request_handoff,
            RequestHandoff(
                by=actor.id,
                reason=reason,
                to_provider=to_provider,
                to_region=to_region,
                to_vlo=to_vlo,
            ),
        )

    async def handoff_supply(self, handoff_id: str, actor: Actor) -> ActionResult:
        case = self._handoff_supplier(actor, handoff_id)
        self._refuse_if_ended(handoff_id, "supplied")
        step = HandoffAction(handoff_id=handoff_id, by=actor.id)
        return await self._update(case, CaseWorkflow.handoff_supply, step)

    async def handoff_accept(self, handoff_id: str, actor: Actor) -> ActionResult:
        case = self._handoff_accepter(actor, handoff_id)
        self._refuse_if_ended(handoff_id, "accepted")
        step = HandoffAction(handoff_id=handoff_id, by=actor.id)
        return await self._update(case, CaseWorkflow.handoff_accept, step)

    async def handoff_withdraw(
        self, handoff_id: str, reason: WithdrawalReason, actor: Actor
    ) -> ActionResult:
        case = self._handoff_case(actor, Action.HAND_OFF, handoff_id)
        self._refuse_if_ended(handoff_id, "withdrawn")
        withdrawal = HandoffWithdrawal(handoff_id=handoff_id, by=actor.id, reason=reason)
        return await self._update(case, CaseWorkflow.handoff_withdraw, withdrawal)

    async def handoff_refuse(self, handoff_id: str, actor: Actor) -> ActionResult:
        """The receiving side refuses the hand-off: its withdrawal with reason
        refused_by_receiver, checked against the region it goes to (service/access.py)."""
        case = self._handoff_case(actor, Action.REFUSE_HANDOFF, handoff_id, receiving=True)
        self._refuse_if_ended(handoff_id, "refused")
        reason = WithdrawalReason.REFUSED_BY_RECEIVER
        withdrawal = HandoffWithdrawal(handoff_id=handoff_id, by=actor.id, reason=reason)
        return await self._update(case, CaseWorkflow.handoff_withdraw, withdrawal)

    async def handoff_view(self, handoff_id: str, actor: Actor) -> HandoffView:
        """Its case's view of it (the case holds its latest hand-off, open or ended)."""
        case = self._handoff_case(actor, Action.VIEW_CASE, handoff_id)
        try:
            return await self.client.get_workflow_handle(case).query(
                CaseWorkflow.handoff_view, handoff_id
            )
        except WorkflowQueryFailedError as err:
            found = self._handoff_row(handoff_id)
            if found is None or found[0].step not in ENDED_STEPS:
                raise VcsError(str(err)) from None
            return row_view(*found)  # an earlier one: the case holds its latest only
        except RPCError as err:
            raise unavailable(err, case) from None

    async def report_crc_event(
        self, case_ref: str, kind: CrcEventKind, occurred_on: date, actor: Actor
    ) -> ActionResult:
        self._case(actor, Action.RECORD_KEY_STAGE, case_ref)
        return await self._update(
            case_workflow_id(case_ref),
            CaseWorkflow.report_crc_event,
            ReportCrcEvent(by=actor.id, kind=kind, occurred_on=occurred_on),
        )

    async def bulk_start(
        self,
        bulk_id: str,
        from_provider: Provider,
        to_provider: Provider,
        actor: Actor,
        *,
        to_vlo: str | None = None,
        page_size: int = 50,
        paused: bool = False,
    ) -> str:
        checked(self.engine, actor, Action.BULK_TRANSFER)
        if from_provider is to_provider:
            raise VcsError("a bulk transfer moves cases between two different providers")
        workflow_id = bulk_workflow_id(bulk_id)
        try:
            await self.client.start_workflow(
                BulkTransferWorkflow.run,
                BulkTransferInput(
                    bulk_id=bulk_id,
                    from_provider=from_provider,
                    to_provider=to_provider,
                    to_vlo=to_vlo,
                    requested_by=actor.id,
                    page_size=page_size,
                    paused=paused,
                    calendar=calendar_for_new_work(),
                ),
                id=workflow_id,
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                static_summary=f"Bulk transfer {from_provider.value} -> {to_provider.value}",
            )
        except RPCError as err:
            raise unavailable(err, workflow_id) from None
        return workflow_id

    async def bulk_pause(self, bulk_id: str, actor: Actor) -> ActionResult:
        checked(self.engine, actor, Action.BULK_TRANSFER)
        return await self._update(
            bulk_workflow_id(bulk_id), BulkTransferWorkflow.pause, BulkControl(by=actor.id)
        )

    async def bulk_resume(self, bulk_id: str, actor: Actor) -> ActionResult:
        checked(self.engine, actor, Action.BULK_TRANSFER)
        return await self._update(
            bulk_workflow_id(bulk_id), BulkTransferWorkflow.resume, BulkControl(by=actor.id)
        )

    async def bulk_progress(self, bulk_id: str, actor: Actor) -> BulkProgress:
        checked(self.engine, actor, Action.BULK_TRANSFER)
        workflow_id = bulk_workflow_id(bulk_id)
        try:
            return await self.client.get_workflow_handle(workflow_id).query(
                BulkTransferWorkflow.progress
            )
        except RPCError as err:
            raise unavailable(err, workflow_id) from None
