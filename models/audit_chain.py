"""The audit trail: every VLO action and automatic step, written in the same transaction as
the change it records, exactly once (an idempotency key per entry).

The trail cannot be altered without detection (issue 4; MAPPA memorandum of understanding,
001_272af33299f517c0.txt: information sharing must "be accountable"; domain.md 'Information
sharing'): each case's entries form a hash chain. Entry n carries its place in the chain
(`sequence`, 1, 2, ...), the hash of entry n-1 (`previous_hash`; GENESIS_HASH for the first),
and its own `entry_hash`: SHA-256 over a canonical serialisation of its fields and the previous
hash. Editing an entry changes its hash; deleting, inserting or reordering one breaks the
sequence or the link to the entry before it. `verify_chain` walks a case's chain and names the
first broken entry.

What a plain hash chain cannot show: someone with the database owner's login who rewrites an
entry *and* recomputes every hash after it, or who deletes the last entries. Against that
(issue 16 item 2):

- **Seals.** The worker seals every entry (an `AuditSeal` row): HMAC-SHA256, with a key only it
  holds (models/audit_key.py), over the entry's hash and the seal before it. Recomputing the
  hashes without the key leaves the seals wrong. The worker seals its own entries as it writes
  them; an entry the console or the CLI wrote (they hold no key) is sealed, after checking its
  hash and link, at the worker's next entry on that case or by the hourly `audit-heads` job,
  whichever comes first. Until then it is reported as awaiting its seal.
- **Exported heads.** The `audit-heads` job (activities/audit_heads.py) writes each changed
  chain's head (case, sequence, seal, time) to write-once storage. A chain later cut short, or
  rewritten with its seals, no longer has the exported head.
- **Privileges.** No application role may UPDATE, DELETE or TRUNCATE the entries or the seals
  (models/grants.sql): only the owner's login can, and that is what the two above catch.

An earlier `audit-export` file is a third anchor (`audit-verify --against FILE`): every exported
entry must still be there, unchanged.

One chain per case: appends to different cases never wait for each other. Appends to one case
are serialised: a transaction-scoped advisory lock per case on PostgreSQL, the database write
lock on SQLite (taken before the last entry is read); a unique (case_id, sequence) backs both.
"""

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from models.audit import AuditDetail, Ref, stored_facts
from models.audit_key import audit_key
from models.records import AuditEntry, AuditSeal, CaseNote

GENESIS_HASH = "0" * 64
CHAIN_FORMAT = "vcs-audit-v1"
SEAL_FORMAT = "vcs-audit-seal-v1"
# pg_advisory_xact_lock(namespace, case_id): the namespace keeps these locks apart from any
# other advisory lock on the server ("VCSA" as a 32-bit integer).
ADVISORY_NAMESPACE = 0x56435341
# session.info key: an audit batch's chain heads by case (lock held, head known: audit_batch.py)
BATCH = "vcs_audit_batch"

log = logging.getLogger("vcs.audit")


def already_done(session: Session, idempotency_key: str) -> bool:
    found = session.exec(
        select(AuditEntry.id).where(AuditEntry.idempotency_key == idempotency_key)
    ).first()
    return found is not None


def utc_naive(moment: datetime) -> datetime:
    """One form of a timestamp for hashing: UTC, no offset (the column returns aware UTC;
    a naive value is taken as UTC already)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def canonical(entry: AuditEntry) -> bytes:
    """The bytes an entry's hash covers: every field that says what happened, in a fixed
    order, as compact JSON (its row id, assigned by the database, is checked by order)."""
    fields: list[Any] = [
        CHAIN_FORMAT,
        entry.case_id,
        entry.sequence,
        entry.previous_hash,
        entry.idempotency_key,
        entry.victim_id,
        entry.actor,
        entry.action,
        entry.detail,
        utc_naive(entry.at).isoformat(timespec="microseconds"),
    ]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def compute_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def lock_case_chain(session: Session, case_id: int) -> None:
    """Serialise appends to one case's chain until this transaction ends."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :case_id)"),
            {"namespace": ADVISORY_NAMESPACE, "case_id": case_id},
        )
    elif connection.dialect.name == "sqlite":
        # A write statement (touching no row) makes this a write transaction now, waiting for
        # the database lock, so the last entry read next is the last one committed.
        connection.execute(text("UPDATE auditentry SET sequence = sequence WHERE 0 = 1"))
    else:  # pragma: no cover - only the two backends are supported
        connection.execute(
            select(AuditEntry.id).where(AuditEntry.case_id == case_id).with_for_update()
        )


def write_note(session: Session, case_id: int, victim_id: int | None, text: str) -> int:
    """Keep free text where the retention job erases it; the audit entry names it by ID."""
    note = CaseNote(
        case_id=case_id, victim_id=victim_id, text=text[:2000], written_at=datetime.now(UTC)
    )
    session.add(note)
    session.flush()
    assert note.id is not None
    return note.id


def append_audit(
    session: Session,
    *,
    case_id: int,
    actor: str,
    action: str,
    detail: AuditDetail | None = None,
    note: str = "",
    victim_id: int | None = None,
    idempotency_key: str | None = None,
) -> None:
    """Chain an entry to the case's trail. `detail` holds IDs, kinds and dates only (a type that
    admits nothing else); words that explain the entry go in `note`, written as a CaseNote that
    the entry names (`note=<id>`) and the retention job erases (issue 13)."""
    Ref(action)  # a kind, such as stage:opted_in: one token
    facts = detail or AuditDetail()
    if note:
        facts = facts.plus(note=write_note(session, case_id, victim_id, note))
    session.flush()  # anything pending first, so the lock is taken after it
    heads: dict[int, tuple[int, str | None]] | None = session.info.get(BATCH)
    last = None if heads is None else heads.get(case_id)
    if last is None:
        lock_case_chain(session, case_id)
        row = session.exec(
            select(AuditEntry.sequence, AuditEntry.entry_hash)
            .where(AuditEntry.case_id == case_id, col(AuditEntry.sequence).is_not(None))
            .order_by(col(AuditEntry.sequence).desc())
            .limit(1)
        ).first()
        last = None if row is None else (row[0] or 0, row[1])
    entry = AuditEntry(
        idempotency_key=idempotency_key,
        case_id=case_id,
        victim_id=victim_id,
        actor=actor,
        action=action,
        detail=facts.text(),
        at=datetime.now(UTC),
        sequence=1 if last is None else last[0] + 1,
        previous_hash=GENESIS_HASH if last is None else last[1],
    )
    entry.entry_hash = compute_hash(entry)
    session.add(entry)
    session.flush()
    if heads is not None:  # sealed at the batch's end (activities/audit_batch.py)
        assert entry.sequence is not None
        heads[case_id] = (entry.sequence, entry.entry_hash)
        return
    key = audit_key()
    if key is not None:  # the worker: seal this entry, and any the console or CLI wrote before
        seal_pending(session, case_id, key)


# ---- seals: the worker's keyed chain over the entries ----------------------------------------


def seal_mac(key: bytes, entry: AuditEntry, previous_mac: str) -> str:
    """HMAC-SHA256 over the entry's place and hash and the seal before it (GENESIS_HASH first)."""
    message = [SEAL_FORMAT, entry.case_id, entry.sequence, entry.entry_hash, previous_mac]
    data = json.dumps(message, separators=(",", ":")).encode("utf-8")
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def seals_of(session: Session, case_id: int) -> list[AuditSeal]:
    return list(
        session.exec(
            select(AuditSeal).where(AuditSeal.case_id == case_id).order_by(col(AuditSeal.sequence))
        ).all()
    )


def seal_pending(session: Session, case_id: int, key: bytes) -> int:
    """Seal, in order, the case's entries after its last seal; the caller holds the case's chain
    lock. Stops at an entry whose hash or link is wrong: a broken chain is not vouched for
    (audit-verify names it). Returns how many were sealed."""
    last = session.exec(
        select(AuditSeal)
        .where(AuditSeal.case_id == case_id)
        .order_by(col(AuditSeal.sequence).desc())
        .limit(1)
    ).first()
    after = 0 if last is None else last.sequence
    rows = session.exec(
        select(AuditEntry)
        .where(AuditEntry.case_id == case_id, col(AuditEntry.sequence) >= max(after, 1))
        .order_by(col(AuditEntry.sequence))
    ).all()
    previous_hash, previous_mac = GENESIS_HASH, GENESIS_HASH
    if last is not None:
        if not rows or rows[0].id != last.entry_id:
            log.warning(
                "audit chain of case %s: the last sealed entry is gone; not sealing", case_id
            )
            return 0
        previous_hash, previous_mac, rows = rows[0].entry_hash or "", last.mac, rows[1:]
    broken = first_break(rows, expected=after + 1, previous=previous_hash)
    stop = len(rows)
    if broken is not None:
        stop = next(i for i, row in enumerate(rows) if row.id == broken.entry_id)
        log.warning(
            "audit chain of case %s is broken at sequence %s: not sealed from there",
            case_id,
            broken.sequence,
        )
    now = datetime.now(UTC)
    for entry in rows[:stop]:
        assert entry.id is not None and entry.sequence is not None
        previous_mac = seal_mac(key, entry, previous_mac)
        session.add(
            AuditSeal(
                case_id=case_id,
                sequence=entry.sequence,
                entry_id=entry.id,
                mac=previous_mac,
                sealed_at=now,
            )
        )
    session.flush()
    return stop


# ---- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int | None
    sequence: int | None
    problem: str


@dataclass(frozen=True)
class ChainReport:
    case_id: int
    entries: int
    head_hash: str | None  # the last entry's hash: keep it elsewhere to anchor the chain
    broken: ChainBreak | None
    sealed: int = 0  # entries under a seal checked with the key (0: seals not checked)
    heads: int = 0  # heads exported to write-once storage found and checked

    @property
    def intact(self) -> bool:
        return self.broken is None


def chain_entries(session: Session, case_id: int) -> list[AuditEntry]:
    """A case's entries in the order they were written (row id)."""
    return list(
        session.exec(
            select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(col(AuditEntry.id))
        ).all()
    )


def first_break(
    entries: Sequence[AuditEntry], expected: int = 1, previous: str = GENESIS_HASH
) -> ChainBreak | None:
    """Walk entries in row order (from sequence `expected`, after the entry whose hash is
    `previous`): each must be chained, unaltered, next in sequence, and linked to the one
    before it. Returns the first that is not."""
    for entry in entries:
        if entry.sequence is None or entry.entry_hash is None or entry.previous_hash is None:
            problem = "is not chained: written outside the audit trail (inserted)"
        elif compute_hash(entry) != entry.entry_hash:
            problem = "does not match its hash: its contents were altered"
        elif entry.sequence > expected:
            problem = (
                f"has sequence {entry.sequence} where {expected} was expected: "
                "entries before it are missing (deleted) or it was moved"
            )
        elif entry.sequence < expected:
            problem = (
                f"has sequence {entry.sequence} where {expected} was expected: "
                "entries were reordered, duplicated or inserted"
            )
        elif entry.previous_hash != previous:
            problem = "does not link to the entry before it: an entry was replaced or inserted"
        else:
            expected, previous = entry.sequence + 1, entry.entry_hash
            continue
        return ChainBreak(entry.id, entry.sequence, problem)
    return None


def seal_break(
    entries: Sequence[AuditEntry], seals: Sequence[AuditSeal], key: bytes
) -> ChainBreak | None:
    """The seals, checked with the key: 1, 2, ... with none missing, each on the entry of its
    sequence and matching that entry's hash as it is now. Entries after the last seal await
    theirs (written by the console or the CLI, not yet seen by the worker)."""
    by_sequence = {entry.sequence: entry for entry in entries}
    previous = GENESIS_HASH
    for number, seal in enumerate(seals, 1):
        entry = by_sequence.get(seal.sequence)
        if seal.sequence != number:
            unsealed = by_sequence.get(number)
            return ChainBreak(
                unsealed.id if unsealed else None,
                number,
                "has no seal though later entries do: its seal was deleted",
            )
        if entry is None or entry.id != seal.entry_id:
            return ChainBreak(
                seal.entry_id, number, "was sealed but is gone or replaced: entries were deleted"
            )
        if not hmac.compare_digest(seal.mac, seal_mac(key, entry, previous)):
            return ChainBreak(
                entry.id,
                number,
                "does not match its seal: it was rewritten (hashes recomputed without the key)",
            )
        previous = seal.mac
    return None


def verify_chain(session: Session, case_id: int, key: bytes | None = None) -> ChainReport:
    """The hash chain; with the audit key, the seals too."""
    entries = chain_entries(session, case_id)
    seals = seals_of(session, case_id) if key is not None else []
    broken = first_break(entries)
    if broken is None and key is not None:
        broken = seal_break(entries, seals, key)
    return ChainReport(
        case_id=case_id,
        entries=len(entries),
        head_hash=entries[-1].entry_hash if entries else None,
        broken=broken,
        sealed=len(seals),
    )


def compare_with_export(
    entries: Sequence[AuditEntry], exported: Iterable[dict[str, Any]]
) -> ChainBreak | None:
    """An earlier export anchors the chain: every entry it holds must still be in the database
    with the same sequence and hash (catches a rewritten-and-rehashed or truncated chain)."""
    by_id = {e.id: e for e in entries}
    for line in exported:
        entry_id, sequence = line.get("id"), line.get("sequence")
        current = by_id.get(entry_id)
        if current is None:
            return ChainBreak(entry_id, sequence, "is in the export but no longer in the database")
        if current.sequence != sequence or current.entry_hash != line.get("entry_hash"):
            return ChainBreak(entry_id, sequence, "differs from the exported copy")
    return None


def export_line(entry: AuditEntry, case_ref: str) -> dict[str, Any]:
    """One JSON Lines record. An entry's detail is its facts (IDs, kinds, dates), shown as the
    JSON object it is stored as; the hash covers the stored text."""
    return {
        "id": entry.id,
        "case_ref": case_ref,
        "case_id": entry.case_id,
        "sequence": entry.sequence,
        "at": utc_naive(entry.at).isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "victim_id": entry.victim_id,
        "detail": stored_facts(entry.detail),
        "idempotency_key": entry.idempotency_key,
        "previous_hash": entry.previous_hash,
        "entry_hash": entry.entry_hash,
    }
