"""A transaction's audit entries chained and sealed together (a workflow task's steps,
activities/steps.py): each case's chain is locked and its head read at its first entry, the
next entries follow on in memory, and the seals are written once, at the end, in one pass
(`append_audit` alone locks, reads and seals at every entry)."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

from models.audit_chain import BATCH, seal_pending
from models.audit_key import audit_key


@contextmanager
def audit_batch(session: Session) -> Iterator[None]:
    heads: dict[int, tuple[int, str | None]] = {}  # case -> (sequence, hash) of its last entry
    session.info[BATCH] = heads
    try:
        yield
        key = audit_key()
        if key is not None:  # the worker: seal them, and any the console or CLI wrote before
            for case_id in heads:
                seal_pending(session, case_id, key)
    finally:
        session.info.pop(BATCH, None)
