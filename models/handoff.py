"""Provider hand-offs: the table, the local service levels, and the messages the hand-off and
bulk-transfer workflows exchange. IDs, providers, regions, VLO user names and dates only.

Sources: domain.md "Providers and hand-offs"; 000_5a1d5e000983110f.txt (CRCs support the NPS;
the NPS decides and arranges a youth's transfer at 18); 003_532a1c7aa3a81105.txt (the Unified
Model, June 2021); 004_1f588538fba2148d.txt (CRC cases whose risk rises go to the NPS).
"""

from datetime import date, datetime

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from models.vocabulary import CrcEventKind, HandoffReason, HandoffStep, Provider

# Every hand-off done automatically by a bulk transfer is recorded with this actor.
BULK_ACTOR = "bulk: unification"


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


def handoff_manager(provider: str) -> str:
    """Local policy: a missed hand-off step goes to the receiving provider's hand-off manager."""
    return f"role:handoff-manager-{provider}"


def handoff_workflow_id(case_ref: str, number: int) -> str:
    return f"vcs-handoff-{case_ref}-{number}"


def bulk_workflow_id(bulk_id: str) -> str:
    return f"vcs-bulk-transfer-{bulk_id}"


class CaseHandoff(SQLModel, table=True):
    """One hand-off of a case between providers; at most one open per case."""

    id: int | None = Field(default=None, primary_key=True)
    handoff_id: str = Field(unique=True, max_length=160)  # the workflow ID
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


# ---- messages --------------------------------------------------------------------------------


class Responsibility(BaseModel):
    provider: Provider
    region: str
    vlo: str

    def describe(self) -> str:
        return f"{self.provider.value}/{self.region}/{self.vlo}"


class HandoffInput(BaseModel):
    handoff_id: str
    case_ref: str
    case_id: int
    reason: HandoffReason
    sender: Responsibility
    receiver: Responsibility
    requested_by: str
    policy: HandoffPolicy = HandoffPolicy()
    bulk_id: str | None = None  # set: supply and accept are done automatically (BULK_ACTOR)
    notify_workflow_id: str | None = None  # the bulk transfer to tell when this one ends


class HandoffStart(BaseModel):
    """Register a hand-off (one open per case, numbered per case) and start its workflow."""

    request_key: str
    case_ref: str
    case_id: int
    reason: HandoffReason
    sender: Responsibility
    receiver: Responsibility
    requested_by: str
    policy: HandoffPolicy = HandoffPolicy()
    bulk_id: str | None = None
    notify_workflow_id: str | None = None


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
    """Signalled to the case, and by the case to each victim: who is now responsible."""

    handoff_id: str
    receiver: Responsibility
    by: str


class HandoffOpened(BaseModel):
    handoff_id: str


class HandoffFinished(BaseModel):
    handoff_id: str
    case_ref: str
    switched: bool
    note: str = ""


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


class RequestHandoff(BaseModel):
    by: str = Field(min_length=2, max_length=60)
    reason: HandoffReason
    to_provider: Provider
    to_region: str = Field(min_length=2, max_length=60)
    to_vlo: str = Field(min_length=2, max_length=60)


class HandoffAction(BaseModel):
    by: str = Field(min_length=2, max_length=60)
    note: str = Field(default="", max_length=200)  # never personal data: an ID or a word


class ReportCrcEvent(BaseModel):
    by: str = Field(min_length=2, max_length=60)
    kind: CrcEventKind
    occurred_on: date


# ---- bulk transfer ---------------------------------------------------------------------------


class BulkTransferInput(BaseModel):
    bulk_id: str
    from_provider: Provider
    to_provider: Provider
    reason: HandoffReason = HandoffReason.UNIFICATION_2021
    to_vlo: str | None = None  # None: the responsible VLO stays the same
    requested_by: str
    page_size: int = 50
    paused: bool = False
    # carried across continue-as-new
    after_case_id: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[str] = []  # case refs (IDs only)
    pages: int = 0


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
