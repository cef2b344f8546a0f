"""Provider hand-offs: the table, the local service levels, and the messages of a hand-off (held
by its case's workflow, workflows/handoff_path.py) and of the bulk transfer. IDs, providers,
regions, VLO user names and dates only.

Sources: domain.md "Providers and hand-offs"; 000_5a1d5e000983110f.txt (CRCs support the NPS;
the NPS decides and arranges a youth's transfer at 18); 003_532a1c7aa3a81105.txt (the Unified
Model, June 2021); 004_1f588538fba2148d.txt (CRC cases whose risk rises go to the NPS).
"""

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from models.vocabulary import CrcEventKind, HandoffReason, HandoffStep, Provider
from models.working_days import BankHolidays

# Every hand-off done automatically by a bulk transfer is recorded with this actor.
BULK_ACTOR = "bulk: unification"

# A hand-off in one of these steps is over: the case may have another.
ENDED_STEPS = (HandoffStep.SWITCHED, HandoffStep.WITHDRAWN)


class WithdrawalReason(StrEnum):
    """Why a hand-off was withdrawn before responsibility switched (local practice: the duty
    to keep the victim's contact stays with the sending provider until a switch)."""

    REQUESTED_IN_ERROR = "requested_in_error"
    CIRCUMSTANCES_CHANGED = "circumstances_changed"  # e.g. risk reassessed, no move after all
    REFUSED_BY_RECEIVER = "refused_by_receiver"  # the receiving provider does not accept it
    HANDOFF_FAILED = "handoff_failed"  # engine: it ended without switching (a bulk's failed)


class HandoffPolicy(BaseModel):
    """Service levels for hand-offs. All *local policy*: neither the Act nor the Code sets them;
    the 000_5a1d... paper leaves the timescales to the NPS Service Level Agreement."""

    # Local policy: the sending provider supplies the case information within this many days.
    supply_working_days: int = 5
    # Local policy: the receiving provider accepts the case within this many days of supply.
    accept_working_days: int = 5
    # Local policy: an escalation about a missed hand-off step is itself due this much later;
    # when that passes too, the next level is raised (up to the max): a hand-off never stalls.
    escalation_due_working_days: int = 3
    escalation_max_level: int = 3
    # Local policy (the CRC contract's "agreed timescale", 000_5a1d...): a CRC reports a key
    # event to the NPS VLO within this many working days of it happening ...
    crc_report_working_days: int = 2
    # ... and the NPS VLO acts on the report (tells victims as needed) within this many.
    crc_action_working_days: int = 5
    # Local policy: a bulk transfer's hand-off needs no person, so it should finish in
    # seconds; one still going after this long is reported as waiting and escalated to the
    # receiving provider's hand-off manager, and the bulk moves on: it never silently stalls.
    bulk_handoff_wait_minutes: int = 60


def handoff_manager(provider: str) -> str:
    """Local policy: a missed hand-off step goes to the receiving provider's hand-off manager."""
    return f"role:handoff-manager-{provider}"


def withdrawn_refusal(handoff_id: str, reason: WithdrawalReason | None, doing: str) -> str:
    why = reason.value if reason else "withdrawn"
    return (
        f"{handoff_id} was withdrawn ({why}): it can no longer be {doing}; "
        "request a new hand-off if the case is to move"
    )


def switched_refusal(handoff_id: str, receiver: str, doing: str) -> str:
    return (
        f"{handoff_id} was already accepted: responsibility has switched to {receiver}, so it "
        f"cannot be {doing}; request a new hand-off to move the case back"
    )


def handoff_id_of(case_ref: str, number: int) -> str:
    """A hand-off's ID (its row's, and what its tasks' keys start with): `number` of the case."""
    return f"vcs-handoff-{case_ref}-{number}"


def handoff_of_task(task_key: str) -> str | None:
    """The hand-off whose step or escalation a task is, from the task's key."""
    return task_key.split(":", 1)[0] if task_key.startswith("vcs-handoff-") else None


def bulk_workflow_id(bulk_id: str) -> str:
    return f"vcs-bulk-transfer-{bulk_id}"


class CaseHandoff(SQLModel, table=True):
    """One hand-off of a case between providers; at most one open per case."""

    id: int | None = Field(default=None, primary_key=True)
    handoff_id: str = Field(unique=True, max_length=160)  # handoff_id_of
    request_key: str = Field(unique=True, max_length=200)  # idempotency of the request
    case_id: int = Field(foreign_key="offendercase.id", index=True)
    number: int
    reason: HandoffReason
    from_provider: Provider
    from_region: str = Field(max_length=60)
    from_vlo: str = Field(max_length=60)
    to_provider: Provider
    to_region: str = Field(max_length=60)
    to_vlo: str = Field(max_length=60)
    step: HandoffStep = HandoffStep.REQUESTED
    bulk_id: str | None = Field(default=None, max_length=60, index=True)
    requested_by: str = Field(max_length=60)
    requested_at: datetime
    supplied_at: datetime | None = None
    accepted_at: datetime | None = None
    switched_at: datetime | None = None
    withdrawn_at: datetime | None = None
    withdrawn_reason: WithdrawalReason | None = None
    withdrawn_by: str | None = Field(default=None, max_length=60)

    def ended_refusal(self, doing: str) -> str | None:
        """Why nothing more can be done to this hand-off (it switched or was withdrawn)."""
        if self.step is HandoffStep.WITHDRAWN:
            return withdrawn_refusal(self.handoff_id, self.withdrawn_reason, doing)
        if self.step is HandoffStep.SWITCHED:
            receiver = f"{self.to_provider.value}/{self.to_region}/{self.to_vlo}"
            return switched_refusal(self.handoff_id, receiver, doing)
        return None


# ---- messages --------------------------------------------------------------------------------


class Responsibility(BaseModel):
    provider: Provider
    region: str
    vlo: str

    def describe(self) -> str:
        return f"{self.provider.value}/{self.region}/{self.vlo}"


class HandoffRequest(BaseModel):
    """What a hand-off is: whose case, why, from whom to whom, asked for by whom."""

    case_ref: str
    case_id: int
    reason: HandoffReason
    sender: Responsibility
    receiver: Responsibility
    requested_by: str
    policy: HandoffPolicy = HandoffPolicy()
    bulk_id: str | None = None  # set: supply and accept are done automatically (BULK_ACTOR)
    notify_workflow_id: str | None = None  # the bulk transfer to tell when this one ends


class HandoffInput(HandoffRequest):
    """A registered hand-off, as its case's workflow opens it (its service levels count over
    the case's bank-holiday calendar)."""

    handoff_id: str


class HandoffStart(HandoffRequest):
    """Register a hand-off (one open per case, numbered per case), then open it on its case."""

    request_key: str

    def registered(self, handoff_id: str) -> HandoffInput:
        """The hand-off its case opens, once registered as `handoff_id`."""
        return HandoffInput(handoff_id=handoff_id, **self.model_dump(exclude={"request_key"}))


class HandoffStepRecord(BaseModel):
    idempotency_key: str
    handoff_id: str
    case_id: int
    step: HandoffStep
    by: str


class ResponsibilitySwitch(BaseModel):
    """The case row's provider/region/VLO, and every open VLO task of the case, move at once."""

    idempotency_key: str
    handoff_id: str
    case_id: int
    sender: Responsibility
    receiver: Responsibility
    by: str


class TaskReassignment(BaseModel):
    idempotency_key: str
    case_id: int
    task_ids: list[int]
    to_vlo: str
    reason: str


class ResponsibilityChange(BaseModel):
    """What the case tells each victim and review when it switches: who is now responsible."""

    handoff_id: str
    receiver: Responsibility
    by: str


class HandoffFinished(BaseModel):
    handoff_id: str
    case_ref: str
    switched: bool
    note: str = ""
    withdrawn: bool = False


class HandoffWithdrawal(BaseModel):
    """A VLO withdraws an open hand-off (or the receiving provider refuses it), with a reason."""

    handoff_id: str = Field(min_length=2, max_length=160)
    by: str = Field(min_length=2, max_length=60)
    reason: WithdrawalReason


class HandoffWithdrawalRecord(BaseModel):
    """Record a withdrawal, unless the hand-off already switched: returns the step it ends in."""

    idempotency_key: str
    handoff_id: str
    case_id: int
    reason: WithdrawalReason
    by: str


class HandoffEscalation(BaseModel):
    step: HandoffStep
    level: int
    task_id: int
    due_on: date


class HandoffView(BaseModel):
    handoff_id: str
    case_ref: str
    reason: HandoffReason
    sender: Responsibility
    receiver: Responsibility
    step: HandoffStep
    bulk: bool
    waiting_for: str
    step_due_on: date | None
    open_task_ids: list[int]
    escalations: list[HandoffEscalation]
    history: list[str]


def waiting_for(step: HandoffStep, sender: Responsibility, receiver: Responsibility) -> str:
    return {
        HandoffStep.REQUESTED: f"{sender.vlo} to supply the case information",
        HandoffStep.SUPPLIED: f"{receiver.vlo} to accept the case",
        HandoffStep.ACCEPTED: "responsibility to switch",
        HandoffStep.SWITCHED: "nothing: done",
        HandoffStep.WITHDRAWN: "nothing: withdrawn",
    }[step]


def row_view(row: CaseHandoff, case_ref: str) -> HandoffView:
    """A hand-off from its row: one its case no longer holds (the case has had another since)."""
    sender = Responsibility(provider=row.from_provider, region=row.from_region, vlo=row.from_vlo)
    receiver = Responsibility(provider=row.to_provider, region=row.to_region, vlo=row.to_vlo)
    why = row.withdrawn_reason.value if row.withdrawn_reason else "-"
    steps = [
        (row.requested_at, f"requested by {row.requested_by}"),
        (row.supplied_at, "supplied"),
        (row.accepted_at, "accepted"),
        (row.switched_at, "switched"),
        (row.withdrawn_at, f"withdrawn by {row.withdrawn_by}: {why}"),
    ]
    return HandoffView(
        handoff_id=row.handoff_id,
        case_ref=case_ref,
        reason=row.reason,
        sender=sender,
        receiver=receiver,
        step=row.step,
        bulk=row.bulk_id is not None,
        waiting_for=waiting_for(row.step, sender, receiver),
        step_due_on=None,
        open_task_ids=[],
        escalations=[],
        history=[f"{at.date()} {what}" for at, what in steps if at is not None],
    )


class RequestHandoff(BaseModel):
    by: str = Field(min_length=2, max_length=60)
    reason: HandoffReason
    to_provider: Provider
    to_region: str = Field(min_length=2, max_length=60)
    to_vlo: str = Field(min_length=2, max_length=60)


class HandoffAction(BaseModel):
    handoff_id: str = Field(min_length=2, max_length=160)
    by: str = Field(min_length=2, max_length=60)
    note: str = Field(default="", max_length=200)  # never personal data: an ID or a word


class ReportCrcEvent(BaseModel):
    by: str = Field(min_length=2, max_length=60)
    kind: CrcEventKind
    occurred_on: date


# ---- bulk transfer ---------------------------------------------------------------------------


class BulkWaiting(BaseModel):
    """A bulk hand-off still going after the policy's wait: escalated, and watched."""

    handoff_id: str
    case_ref: str
    case_id: int
    since: date
    escalation_task_id: int | None = None


class BulkTransferInput(BaseModel):
    bulk_id: str
    from_provider: Provider
    to_provider: Provider
    reason: HandoffReason = HandoffReason.UNIFICATION_2021
    to_vlo: str | None = None  # None: the responsible VLO stays the same
    requested_by: str
    page_size: int = 50
    paused: bool = False
    policy: HandoffPolicy = HandoffPolicy()
    calendar: BankHolidays | None = None  # set by whoever starts it (starter.py)
    # carried across continue-as-new
    after_case_id: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    withdrawn: int = 0
    failures: list[str] = []  # case refs (IDs only)
    pages: int = 0
    waiting: list[BulkWaiting] = []  # hand-offs past their time, escalated, still watched


class TransferCandidate(BaseModel):
    case_id: int
    case_ref: str
    provider: Provider
    region: str
    responsible_vlo: str
    open_handoff: str | None = None


class CandidatePage(BaseModel):
    cases: list[TransferCandidate]
    remaining_after: int  # candidates beyond this page


class BulkControl(BaseModel):
    by: str = Field(min_length=2, max_length=60)


class BulkProgress(BaseModel):
    bulk_id: str
    from_provider: Provider
    to_provider: Provider
    done: int
    skipped: int
    failed: int
    remaining: int | None  # None until the first page is read
    in_flight: int
    paused: bool
    finished: bool
    failures: list[str]
    withdrawn: int = 0
    waiting: list[BulkWaiting] = []
