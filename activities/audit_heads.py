"""The `audit-heads` job (Temporal Schedule `vcs-audit-heads`, hourly; workflows/audit_heads.py):
seals every audit entry the console or the CLI wrote since the worker last saw its case, then
exports each chain's head to write-once storage (issue 16 item 2; models/audit_chain.py).

The store is a directory (`VCS_AUDIT_HEADS_DIR`, default data/audit-heads/) of JSON Lines files,
one per run, each created with O_EXCL (never overwritten), written once, fsync'ed and left
read-only (0444):

    audit-heads-20270104T100000000000Z.jsonl
    {"case_id": 7, "case_ref": "LDS-2026-0042", "sequence": 12, "mac": "<hex>",
     "sealed_at": "...", "exported_at": "..."}

A run exports the heads of chains sealed since the previous file's time (less an hour's overlap,
for a seal committed late); the first run, every chain. Case references, numbers and MACs only:
no personal data. In production the directory is write-once storage that not even the database
owner can change: a volume the worker may only add files to, synced to an S3 bucket with Object
Lock in compliance mode, or such a bucket mounted (mountpoint-s3 writes new objects only).
`audit-verify` reads every file and checks each exported head against the chain (audit_check.py).
"""

import hmac
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from temporalio import activity

from models.audit_chain import ChainBreak, lock_case_chain, seal_pending
from models.audit_key import require_audit_key
from models.case import OffenderCase
from models.db import session_scope
from models.errors import VcsError
from models.records import AuditEntry, AuditSeal

DEFAULT_HEADS_DIR = Path(__file__).resolve().parent.parent / "data" / "audit-heads"
FILE_NAME = re.compile(r"audit-heads-(\d{8}T\d{12})Z\.jsonl")
STAMP = "%Y%m%dT%H%M%S%f"
# A seal stamped before a run's time but committed after it is caught by the next run.
OVERLAP = timedelta(hours=1)


def heads_dir() -> Path:
    return Path(os.environ.get("VCS_AUDIT_HEADS_DIR") or DEFAULT_HEADS_DIR)


class AuditHeadsResult(BaseModel):
    sealed: int  # entries of the console and the CLI sealed by this run
    exported: int  # chain heads written
    file: str | None  # the file written (none when no chain changed)


@dataclass(frozen=True)
class ExportedHead:
    case_id: int
    case_ref: str
    sequence: int
    mac: str
    exported_at: str
    file: str


# ---- sealing ----------------------------------------------------------------------------------


def unsealed_cases(session: Session) -> list[int]:
    """Cases with a chained entry that has no seal yet."""
    rows = session.exec(
        select(AuditEntry.case_id)
        .outerjoin(AuditSeal, col(AuditSeal.entry_id) == col(AuditEntry.id))
        .where(col(AuditEntry.sequence).is_not(None), col(AuditSeal.id).is_(None))
        .distinct()
    ).all()
    return sorted(rows)


def seal_all(engine: Engine, key: bytes) -> int:
    with session_scope(engine) as session:
        cases = unsealed_cases(session)
    sealed = 0
    for case_id in cases:  # one transaction per case: appends elsewhere never wait long
        with session_scope(engine) as session:
            lock_case_chain(session, case_id)
            sealed += seal_pending(session, case_id, key)
    return sealed


# ---- the write-once store ---------------------------------------------------------------------


def previous_export(directory: Path) -> datetime | None:
    stamps = [
        m.group(1) for p in directory.glob("audit-heads-*") if (m := FILE_NAME.fullmatch(p.name))
    ]
    if not stamps:
        return None
    return datetime.strptime(max(stamps), STAMP).replace(tzinfo=UTC)


def heads_since(session: Session, since: datetime | None) -> list[dict[str, Any]]:
    """The head (last seal) of every chain with a seal made since `since` (all, if None)."""
    last = select(AuditSeal.case_id, func.max(AuditSeal.sequence).label("sequence")).group_by(
        col(AuditSeal.case_id)
    )
    if since is not None:
        last = last.having(func.max(AuditSeal.sealed_at) >= since)
    heads = last.subquery()
    rows = session.exec(
        select(AuditSeal, OffenderCase.case_ref)
        .join(
            heads,
            (col(AuditSeal.case_id) == heads.c.case_id)
            & (col(AuditSeal.sequence) == heads.c.sequence),
        )
        .join(OffenderCase, col(OffenderCase.id) == col(AuditSeal.case_id))
        .order_by(col(AuditSeal.case_id))
    ).all()
    return [
        {
            "case_id": seal.case_id,
            "case_ref": case_ref,
            "sequence": seal.sequence,
            "mac": seal.mac,
            "sealed_at": seal.sealed_at.astimezone(UTC).isoformat(),
        }
        for seal, case_ref in rows
    ]


def write_once(directory: Path, now: datetime, lines: list[dict[str, Any]]) -> Path:
    """A new file, never an existing one (O_EXCL), written, synced and left read-only."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"audit-heads-{now.astimezone(UTC).strftime(STAMP)}Z.jsonl"
    exported_at = now.astimezone(UTC).isoformat()
    data = "".join(json.dumps({**line, "exported_at": exported_at}) + "\n" for line in lines)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    try:
        os.write(fd, data.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_fd)  # the new name survives a crash too
    finally:
        os.close(directory_fd)
    return path


def export_heads(engine: Engine, key: bytes, directory: Path, now: datetime) -> AuditHeadsResult:
    sealed = seal_all(engine, key)
    since = previous_export(directory)
    with session_scope(engine) as session:
        lines = heads_since(session, None if since is None else since - OVERLAP)
    if not lines:
        return AuditHeadsResult(sealed=sealed, exported=0, file=None)
    path = write_once(directory, now, lines)
    return AuditHeadsResult(sealed=sealed, exported=len(lines), file=path.name)


def read_heads(directory: Path) -> list[ExportedHead]:
    """Every head ever exported, oldest file first. A line that is not a head is an error:
    the store is written by the job alone."""
    heads: list[ExportedHead] = []
    if not directory.is_dir():
        return heads
    for path in sorted(p for p in directory.iterdir() if FILE_NAME.fullmatch(p.name)):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                item = json.loads(line)
                heads.append(
                    ExportedHead(
                        int(item["case_id"]),
                        str(item["case_ref"]),
                        int(item["sequence"]),
                        str(item["mac"]),
                        str(item["exported_at"]),
                        path.name,
                    )
                )
            except (ValueError, KeyError, TypeError):
                raise VcsError(f"{path} line {number} is not an exported audit head") from None
    return heads


def compare_with_heads(
    seals: Sequence[AuditSeal], heads: Iterable[ExportedHead]
) -> ChainBreak | None:
    """Every head exported for the case must still be in its chain, with the same seal: a chain
    cut short lacks it, a chain rewritten (seals and all) has another."""
    by_sequence = {seal.sequence: seal for seal in seals}
    for head in heads:
        seal = by_sequence.get(head.sequence)
        if seal is None:
            return ChainBreak(
                None,
                head.sequence,
                f"was the chain's head exported in {head.file}, and is no longer sealed: "
                "the chain was cut short",
            )
        if not hmac.compare_digest(seal.mac, head.mac):
            return ChainBreak(
                seal.entry_id,
                head.sequence,
                f"differs from the head exported in {head.file}: the chain was rewritten",
            )
    return None


class AuditHeadActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def export_audit_heads(self) -> AuditHeadsResult:
        return export_heads(
            self.engine, require_audit_key("the audit-heads job"), heads_dir(), datetime.now(UTC)
        )
