"""Activities for provider hand-offs: register one (one open per case), record its steps,
switch responsibility on the case row and its open tasks, record a withdrawal, list cases for
a bulk transfer, and open (or look at) a bulk's hand-off on its case's workflow. Every write
is idempotent (a key per effect) and audited."""

from datetime import UTC, datetime

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.errors import data_error, stored_case
from models.audit import AuditDetail, Ref
from models.audit_chain import already_done, append_audit
from models.case import OffenderCase
from models.db import session_scope
from models.handoff import (
    ENDED_STEPS,
    CandidatePage,
    CaseHandoff,
    HandoffInput,
    HandoffStart,
    HandoffStepRecord,
    HandoffWithdrawalRecord,
    ResponsibilitySwitch,
    TaskReassignment,
    TransferCandidate,
    handoff_id_of,
)
from models.ids import case_workflow_id
from models.messages import CaseView
from models.records import VloTask
from models.task_moves import reassign_tasks
from models.vocabulary import CaseStatus, HandoffStep, Provider, TaskKind, TaskStatus

RUNNING = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
# A hand-off's own step tasks are closed by its steps, never moved by its switch.
HANDOFF_TASKS = (TaskKind.HANDOFF_SUPPLY, TaskKind.HANDOFF_ACCEPT)


def in_progress(message: str) -> ApplicationError:
    """Another hand-off of the case is open: not an error to retry, and a bulk run skips it."""
    return ApplicationError(message, type="HandoffInProgress", non_retryable=True)


def still_open(session: Session, handoff_id: str, doing: str) -> CaseHandoff:
    """The hand-off's row, locked, or a data error if it is gone or withdrawn: a bulk transfer
    may record as failed one whose case took it a moment later, and then nothing of it may be
    recorded or switched (its case's workflow ends it withdrawn, as the row says)."""
    row = session.exec(
        select(CaseHandoff).where(CaseHandoff.handoff_id == handoff_id).with_for_update()
    ).first()
    if row is None:
        raise data_error(f"hand-off {handoff_id} is not recorded")
    if row.step is HandoffStep.WITHDRAWN:
        reason = row.withdrawn_reason.value if row.withdrawn_reason else "-"
        raise data_error(f"hand-off {handoff_id} was withdrawn ({reason}): cannot {doing}")
    return row


class HandoffStoreActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def register_handoff(self, start: HandoffStart) -> str:
        """Number the case's next hand-off and record it; a retry returns the same one.
        domain.md: one hand-off at a time, so nothing is moved twice or dropped between two."""
        with session_scope(self.engine) as session:
            mine = session.exec(
                select(CaseHandoff).where(CaseHandoff.request_key == start.request_key)
            ).first()
            if mine is not None:
                if mine.step is HandoffStep.WITHDRAWN:
                    reason = mine.withdrawn_reason.value if mine.withdrawn_reason else "-"
                    raise data_error(
                        f"hand-off {mine.handoff_id} of this request was withdrawn ({reason}): "
                        "ask for a new hand-off"
                    )
                return mine.handoff_id
            case = session.get(OffenderCase, start.case_id)
            if case is None or case.case_ref != start.case_ref:
                raise data_error(f"case {start.case_ref} is not in the case database")
            if case.status is not CaseStatus.OPEN:
                raise data_error(f"case {start.case_ref} is closed: nothing to hand off")
            open_one = session.exec(
                select(CaseHandoff).where(
                    CaseHandoff.case_id == start.case_id,
                    col(CaseHandoff.step).not_in(ENDED_STEPS),
                )
            ).first()
            if open_one is not None:
                raise in_progress(
                    f"case {start.case_ref} already has hand-off {open_one.handoff_id} open "
                    f"(step {open_one.step.value})"
                )
            count = session.exec(
                select(func.count())
                .select_from(CaseHandoff)
                .where(CaseHandoff.case_id == start.case_id)
            ).one()
            number = int(count) + 1
            row = CaseHandoff(
                handoff_id=handoff_id_of(start.case_ref, number),
                request_key=start.request_key,
                case_id=start.case_id,
                number=number,
                reason=start.reason,
                from_provider=start.sender.provider,
                from_region=start.sender.region,
                from_vlo=start.sender.vlo,
                to_provider=start.receiver.provider,
                to_region=start.receiver.region,
                to_vlo=start.receiver.vlo,
                bulk_id=start.bulk_id,
                requested_by=start.requested_by,
                requested_at=datetime.now(UTC),
            )
            session.add(row)
            append_audit(
                session,
                case_id=start.case_id,
                actor=start.requested_by,
                action="handoff_requested",
                detail=AuditDetail.of(
                    handoff=Ref(row.handoff_id),
                    reason=start.reason,
                    from_provider=start.sender.provider,
                    to_provider=start.receiver.provider,
                ),  # regions and VLOs: the hand-off's row
            )
            return row.handoff_id

    @activity.defn
    def record_handoff_step(self, record: HandoffStepRecord) -> None:
        with session_scope(self.engine) as session:
            if already_done(session, record.idempotency_key):
                return
            row = still_open(session, record.handoff_id, f"record it {record.step.value}")
            row.step = record.step
            now = datetime.now(UTC)
            if record.step is HandoffStep.SUPPLIED:
                row.supplied_at = now
            elif record.step is HandoffStep.ACCEPTED:
                row.accepted_at = now
            session.add(row)
            append_audit(
                session,
                case_id=record.case_id,
                actor=record.by,
                action=f"handoff_{record.step.value}",
                detail=AuditDetail.of(handoff=Ref(record.handoff_id)),
                idempotency_key=record.idempotency_key,
            )

    @activity.defn
    def switch_responsibility(self, switch: ResponsibilitySwitch) -> list[int]:
        """The case row's provider, region and VLO change, and every open task of the case and
        its victims held by a VLO moves to the new VLO, due dates unchanged, in one transaction
        (domain.md: a hand-off must never drop a victim's contact, choices or deadlines).
        Returns the IDs of the tasks moved."""
        with session_scope(self.engine) as session:
            if already_done(session, switch.idempotency_key):
                return []
            row = still_open(session, switch.handoff_id, "switch it")
            case = stored_case(session, switch.case_id)
            case.provider = switch.receiver.provider
            case.region = switch.receiver.region
            case.responsible_vlo = switch.receiver.vlo
            session.add(case)
            tasks = session.exec(
                select(VloTask)
                .where(VloTask.case_id == switch.case_id, VloTask.status == TaskStatus.OPEN)
                .order_by(col(VloTask.id))
            ).all()
            # Each move audited once, here: the workflows' own hand-over (TaskBook.hand_over)
            # then finds these tasks already the new VLO's and moves nothing again.
            moved = reassign_tasks(
                session,
                [t for t in tasks if t.kind not in HANDOFF_TASKS],
                switch.receiver.vlo,
                actor=switch.by,
                note=f"hand-off {switch.handoff_id}",
                idempotency_key=switch.idempotency_key,
            )
            row.step = HandoffStep.SWITCHED
            row.switched_at = datetime.now(UTC)
            session.add(row)
            append_audit(
                session,
                case_id=switch.case_id,
                actor=switch.by,
                action="handoff_switched",
                detail=AuditDetail.of(
                    handoff=Ref(switch.handoff_id),
                    from_provider=switch.sender.provider,
                    to_provider=switch.receiver.provider,
                    tasks=sorted(moved),
                ),
                idempotency_key=switch.idempotency_key,
            )
            return sorted(moved)

    @activity.defn
    def withdraw_handoff(self, record: HandoffWithdrawalRecord) -> HandoffStep:
        """The hand-off ends without a switch, unless it already switched (then nothing
        changes): returns the step it ends in. The case stays with the sending provider."""
        with session_scope(self.engine) as session:
            row = session.exec(
                select(CaseHandoff)
                .where(CaseHandoff.handoff_id == record.handoff_id)
                .with_for_update()
            ).first()
            if row is None:
                raise data_error(f"hand-off {record.handoff_id} is not recorded")
            if row.step in ENDED_STEPS:  # switched, or withdrawn already (a retry): no change
                return row.step
            was = row.step
            row.step = HandoffStep.WITHDRAWN
            row.withdrawn_at = datetime.now(UTC)
            row.withdrawn_reason = record.reason
            row.withdrawn_by = record.by
            session.add(row)
            append_audit(
                session,
                case_id=record.case_id,
                actor=record.by,
                action="handoff_withdrawn",
                detail=AuditDetail.of(
                    handoff=Ref(record.handoff_id),
                    at_step=was,
                    reason=record.reason,
                    stays_with=row.from_provider,
                ),
                idempotency_key=record.idempotency_key,
            )
            return HandoffStep.WITHDRAWN

    @activity.defn
    def reassign_tasks(self, change: TaskReassignment) -> None:
        """A workflow's own open tasks follow its new responsible VLO (due dates unchanged)."""
        with session_scope(self.engine) as session:
            chosen = select(VloTask).where(col(VloTask.id).in_(change.task_ids))
            tasks = session.exec(chosen.order_by(col(VloTask.id))).all()
            reassign_tasks(
                session,
                tasks,
                change.to_vlo,
                actor="engine",
                note=change.reason,
                idempotency_key=change.idempotency_key,
            )

    @activity.defn
    def list_transfer_candidates(
        self, from_provider: Provider, after_case_id: int, limit: int
    ) -> CandidatePage:
        """Open cases of a provider, in case-ID order after a cursor, a page at a time. A case
        already moved no longer belongs to the provider, so a re-run never lists it again."""
        with session_scope(self.engine) as session:
            where = (
                OffenderCase.provider == from_provider,
                OffenderCase.status == CaseStatus.OPEN,
                col(OffenderCase.id) > after_case_id,
            )
            rows = session.exec(
                select(OffenderCase).where(*where).order_by(col(OffenderCase.id)).limit(limit)
            ).all()
            total = session.exec(select(func.count()).select_from(OffenderCase).where(*where)).one()
            ids = [r.id for r in rows]
            open_rows = session.exec(
                select(CaseHandoff).where(
                    col(CaseHandoff.case_id).in_(ids), col(CaseHandoff.step).not_in(ENDED_STEPS)
                )
            ).all()
            open_by_case = {h.case_id: h.handoff_id for h in open_rows}
            return CandidatePage(
                cases=[
                    TransferCandidate(
                        case_id=r.id,
                        case_ref=r.case_ref,
                        provider=r.provider,
                        region=r.region,
                        responsible_vlo=r.responsible_vlo,
                        open_handoff=open_by_case.get(r.id),
                    )
                    for r in rows
                    if r.id is not None
                ],
                remaining_after=int(total) - len(rows),
            )


class HandoffStarterActivities:
    """A bulk transfer opens each hand-off on its case's workflow, and looks at one that has not
    reported back, through these (a workflow cannot update another)."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue

    @activity.defn
    async def start_case_handoff(self, params: HandoffInput) -> str:
        """The case's `start_handoff` update, once the case has taken it (not done: the case
        tells the bulk how it ended). Its update ID is the hand-off's: a retry is the same."""
        handle = self.client.get_workflow_handle(case_workflow_id(params.case_ref))
        try:
            await handle.start_update(
                "start_handoff",
                params,
                id=params.handoff_id,
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            )
        except WorkflowUpdateFailedError as err:  # refused by the case
            raise data_error(f"case {params.case_ref}: {err.cause or err}") from None
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                raise data_error(f"case {params.case_ref} has no running workflow") from None
            raise
        return params.handoff_id

    @activity.defn
    async def handoff_open_in_case(self, case_ref: str, handoff_id: str) -> bool:
        """Whether the case's workflow still holds the hand-off open (a bulk transfer checks on
        one that has not reported back: if its case's workflow has ended, it never will)."""
        workflow_id = case_workflow_id(case_ref)
        try:
            # The raw answer: its status without decoding its search attributes.
            described = await self.client.workflow_service.describe_workflow_execution(
                DescribeWorkflowExecutionRequest(
                    namespace=self.client.namespace,
                    execution=WorkflowExecution(workflow_id=workflow_id),
                )
            )
            if described.workflow_execution_info.status != RUNNING:
                return False
            handle = self.client.get_workflow_handle(workflow_id)
            view = await handle.query("view", result_type=CaseView)
        except WorkflowQueryFailedError:
            return False
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                return False
            raise
        return bool(view.open_handoff == handoff_id)
