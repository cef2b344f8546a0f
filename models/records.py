"""What the scheme does for a victim: representations, conditions, letters, VLO tasks, audit."""

from datetime import date, datetime

from pydantic import field_validator
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.text import clean_text
from models.vocabulary import Channel, ConditionKind, Language, LetterKind, TaskKind, TaskStatus


class Representation(SQLModel, table=True):
    """DVCVA s 35(4): representations about licence conditions, forwarded to the decider."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="offendercase.id", index=True)
    victim_id: int = Field(foreign_key="victim.id", index=True)
    text: str = Field(min_length=1, max_length=20_000)
    received_at: datetime
    forwarded_to: str | None = None
    forwarded_at: datetime | None = None


class LicenceConditionBase(SQLModel):
    kind: ConditionKind
    # The wording may reveal where the victim lives (an exclusion zone): personal data.
    description: str = Field(min_length=1, max_length=2000)
    victim_related: bool
    starts_on: date
    ends_on: date | None = None

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        return clean_text(value, multiline=True)

    def problems(self) -> list[str]:
        if self.ends_on is not None and self.ends_on < self.starts_on:
            return [f"condition ends {self.ends_on} before it starts {self.starts_on}"]
        return []


class LicenceCondition(LicenceConditionBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="offendercase.id", index=True)
    recorded_at: datetime


class Correspondence(SQLModel, table=True):
    """The outbox: one row per letter or message. The idempotency key makes sending
    exactly-once in effect however often an activity is retried or replayed."""

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=200)
    case_id: int = Field(foreign_key="offendercase.id", index=True)
    victim_id: int = Field(foreign_key="victim.id", index=True)
    kind: LetterKind
    channel: Channel
    language: Language
    body: str
    created_at: datetime
    # Email and text messages, once GOV.UK Notify has them: its notification id, and when.
    # Unset on a letter, and on a message not (yet) sent: the admin team handles it by hand.
    provider_id: str | None = Field(default=None, max_length=100)
    sent_at: datetime | None = None
    # A letter to post: when the admin team marked it posted, and who (their subject).
    posted_at: datetime | None = None
    posted_by: str | None = Field(default=None, max_length=60)
    # What became of an email or text (models/delivery.py): Notify's status, followed until it is
    # final, or ours (rejected, config-fault) when Notify refused it; when it was last learnt;
    # and the status poll that told the letter's workflow it was undelivered (exactly once).
    delivery_status: str | None = Field(default=None, max_length=30, index=True)
    status_at: datetime | None = None
    undelivered_notice: str | None = Field(default=None, max_length=60)


class VloTask(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    task_key: str = Field(unique=True, max_length=200)  # workflow id + local key: idempotent
    workflow_id: str = Field(index=True, max_length=120)
    case_id: int = Field(foreign_key="offendercase.id", index=True)
    victim_id: int | None = Field(default=None, foreign_key="victim.id", index=True)
    kind: TaskKind
    title: str = Field(max_length=200)  # never holds a victim's name or address
    assigned_to: str = Field(index=True, max_length=60)  # a VLO, or a role for escalations
    due_on: date = Field(index=True)
    status: TaskStatus = Field(default=TaskStatus.OPEN, index=True)
    escalation_level: int = 0
    escalates_task_id: int | None = Field(default=None, foreign_key="vlotask.id")
    escalated: bool = False
    created_at: datetime
    completed_at: datetime | None = None
    completed_by: str | None = None
    outcome: str | None = Field(default=None, max_length=500)


class CaseNote(SQLModel, table=True):
    """Words that explain an audit entry (a reason, a note, who directed a review): free text,
    so kept here, where the retention job erases it, and named by ID from the entry
    (models/audit.py: the trail itself holds IDs, kinds and dates only)."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="offendercase.id", index=True)
    victim_id: int | None = Field(default=None, foreign_key="victim.id")
    text: str = Field(max_length=2000)
    written_at: datetime


class AuditEntry(SQLModel, table=True):
    """Who did what, when, as IDs, kinds and dates (`detail`: models/audit.py AuditDetail as
    JSON), never a victim's name, address or words, nor anything a person typed.

    A hash chain per case (models/audit_chain.py) makes any later change detectable (MAPPA MoU,
    001_272af33299f517c0.txt: sharing must be accountable). The chain fields are empty only on
    a row written outside `append_audit`, which verification reports as inserted."""

    __table_args__ = (UniqueConstraint("case_id", "sequence", name="uq_auditentry_case_sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str | None = Field(default=None, unique=True, max_length=200)
    case_id: int = Field(foreign_key="offendercase.id", index=True)
    victim_id: int | None = Field(default=None, foreign_key="victim.id")
    actor: str = Field(max_length=60)
    action: str = Field(max_length=60)
    detail: str = Field(default="", max_length=1000)
    at: datetime
    sequence: int | None = None  # 1, 2, ... within the case
    previous_hash: str | None = Field(default=None, max_length=64)  # SHA-256, hex
    entry_hash: str | None = Field(default=None, max_length=64)


class AuditSeal(SQLModel, table=True):
    """The worker's keyed seal on one audit entry (models/audit_chain.py): HMAC-SHA256, with a key
    only the worker holds (models/audit_key.py), over the entry's hash and the seal before it,
    so each case's seals are a keyed chain and the last one (the head) vouches for every entry
    up to it. Inserted only, like the entries: no application role may change or delete one
    (models/grants.sql)."""

    __table_args__ = (UniqueConstraint("case_id", "sequence", name="uq_auditseal_case_sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="offendercase.id", index=True)
    sequence: int  # the entry's
    entry_id: int = Field(foreign_key="auditentry.id", unique=True)
    mac: str = Field(max_length=64)  # hex
    sealed_at: datetime = Field(index=True)
