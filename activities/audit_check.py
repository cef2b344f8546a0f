"""A case's audit chain (models/audit_chain.py) exported and verified for ops, by case
reference: the chain itself, its seals and the heads exported to write-once storage
(activities/audit_heads.py)."""

from dataclasses import replace
from typing import Any

from sqlalchemy import Engine

from activities.audit_heads import compare_with_heads, heads_dir, read_heads
from models.audit_chain import (
    ChainReport,
    chain_entries,
    compare_with_export,
    export_line,
    first_break,
    seals_of,
    verify_chain,
)
from models.audit_key import require_audit_key
from models.case_repository import case_row
from models.db import session_scope


def audit_export(engine: Engine, case_ref: str) -> tuple[list[dict[str, Any]], ChainReport]:
    """A case's audit entries with their hashes, in order, and the chain's state."""
    with session_scope(engine) as session:
        case = case_row(session, case_ref)
        assert case.id is not None
        entries = chain_entries(session, case.id)
        report = ChainReport(
            case_id=case.id,
            entries=len(entries),
            head_hash=entries[-1].entry_hash if entries else None,
            broken=first_break(entries),
        )
        return [export_line(e, case.case_ref) for e in entries], report


def audit_verify(
    engine: Engine, case_ref: str, exported: list[dict[str, Any]] | None = None
) -> ChainReport:
    """Walk the case's chain and check its seals with the audit key (held by the worker: ops
    run this with its secret), check every head exported to write-once storage is still there
    unchanged and, given an earlier export, that all its entries are."""
    key = require_audit_key("audit-verify")
    exported_heads = read_heads(heads_dir())
    with session_scope(engine) as session:
        case = case_row(session, case_ref)
        assert case.id is not None
        report = verify_chain(session, case.id, key)
        heads = [h for h in exported_heads if (h.case_id, h.case_ref) == (case.id, case.case_ref)]
        broken = report.broken or compare_with_heads(seals_of(session, case.id), heads)
        if broken is None and exported is not None:
            broken = compare_with_export(chain_entries(session, case.id), exported)
        return replace(report, broken=broken, heads=len(heads))
