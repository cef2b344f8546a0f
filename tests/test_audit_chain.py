"""The audit trail's hash chain (activities/audit.py): any edit, deletion, insertion or
reordering of a case's entries is detected (MAPPA MoU, 001_272af33299f517c0.txt: sharing must
"be accountable"; issue 4)."""

import itertools
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import Engine, delete, update
from sqlmodel import col, select
from temporalio.client import Client

import starter
from activities.audit import GENESIS_HASH, append_audit, compute_hash, verify_chain
from models.audit import AuditDetail
from models.db import session_scope
from models.records import AuditEntry
from models.repository import add_victim, register_case
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.helpers import registration, victim


def make_case(engine: Engine, extra_entries: int = 4) -> tuple[str, int]:
    """A registered case with a victim (two entries) and `extra_entries` more."""
    case_ref = unique_ref("AUD")
    case = register_case(engine, registration(case_ref, datetime.now(UTC).date()), "vlo.jones").case
    add_victim(engine, case_ref, victim(), "vlo.jones")
    assert case.id is not None
    for n in range(extra_entries):
        with session_scope(engine) as session:
            append_audit(
                session,
                case_id=case.id,
                actor="vlo.jones",
                action="note",
                detail=AuditDetail.of(step=n),
            )
    return case_ref, case.id


def entry_ids(engine: Engine, case_id: int) -> list[int]:
    with session_scope(engine) as session:
        ids = session.exec(
            select(AuditEntry.id).where(AuditEntry.case_id == case_id).order_by(col(AuditEntry.id))
        ).all()
        return [i for i in ids if i is not None]


def report(engine: Engine, case_id: int):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return verify_chain(session, case_id)


def test_untouched_chain_verifies(engine: Engine) -> None:
    _case_ref, case_id = make_case(engine)
    _other_ref, other_id = make_case(engine, extra_entries=1)
    result = report(engine, case_id)
    assert result.intact and result.entries == 6
    with session_scope(engine) as session:
        rows = session.exec(
            select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(col(AuditEntry.id))
        ).all()
        assert [r.sequence for r in rows] == [1, 2, 3, 4, 5, 6]
        assert rows[0].previous_hash == GENESIS_HASH
        for before, after in itertools.pairwise(rows):
            assert after.previous_hash == before.entry_hash
        assert all(r.entry_hash == compute_hash(r) for r in rows)
    assert result.head_hash == rows[-1].entry_hash
    # One chain per case: the other case's chain starts at 1 of its own.
    assert report(engine, other_id).intact and report(engine, other_id).entries == 3


def test_editing_a_detail_is_detected(engine: Engine) -> None:
    _, case_id = make_case(engine)
    target = entry_ids(engine, case_id)[2]
    with session_scope(engine) as session:
        session.exec(update(AuditEntry).where(col(AuditEntry.id) == target).values(detail="x"))
    broken = report(engine, case_id).broken
    assert broken is not None and broken.entry_id == target
    assert "altered" in broken.problem


def test_editing_a_timestamp_or_actor_is_detected(engine: Engine) -> None:
    _, case_id = make_case(engine)
    target = entry_ids(engine, case_id)[1]
    with session_scope(engine) as session:
        session.exec(
            update(AuditEntry).where(col(AuditEntry.id) == target).values(actor="someone.else")
        )
    broken = report(engine, case_id).broken
    assert broken is not None and broken.entry_id == target


def test_deleting_a_middle_entry_is_detected(engine: Engine) -> None:
    _, case_id = make_case(engine)
    ids = entry_ids(engine, case_id)
    with session_scope(engine) as session:
        session.exec(delete(AuditEntry).where(col(AuditEntry.id) == ids[2]))
    broken = report(engine, case_id).broken
    assert broken is not None and broken.entry_id == ids[3]
    assert "missing" in broken.problem


def test_swapping_two_entries_content_is_detected(engine: Engine) -> None:
    _, case_id = make_case(engine)
    ids = entry_ids(engine, case_id)
    fields = ("actor", "action", "detail", "at", "victim_id")
    with session_scope(engine) as session:
        a, b = session.get(AuditEntry, ids[2]), session.get(AuditEntry, ids[3])
        assert a is not None and b is not None
        values_a = {f: getattr(a, f) for f in fields}
        values_b = {f: getattr(b, f) for f in fields}
        session.exec(update(AuditEntry).where(col(AuditEntry.id) == ids[2]).values(**values_b))
        session.exec(update(AuditEntry).where(col(AuditEntry.id) == ids[3]).values(**values_a))
    broken = report(engine, case_id).broken
    assert broken is not None and broken.entry_id == ids[2]


def test_swapping_two_whole_rows_chain_and_all_is_detected(engine: Engine) -> None:
    """Reordering: every column but the row id moved, so each row is self-consistent."""
    _, case_id = make_case(engine)
    ids = entry_ids(engine, case_id)
    fields: tuple[str, ...] = ("actor", "action", "detail", "at", "victim_id", "sequence")
    fields += ("previous_hash",)
    fields += ("entry_hash", "idempotency_key")
    with session_scope(engine) as session:
        a, b = session.get(AuditEntry, ids[2]), session.get(AuditEntry, ids[3])
        assert a is not None and b is not None
        values_a = {f: getattr(a, f) for f in fields}
        values_b = {f: getattr(b, f) for f in fields}
        # Through a free sequence number, as the unique (case, sequence) requires.
        session.exec(update(AuditEntry).where(col(AuditEntry.id) == ids[2]).values(sequence=-1))
        session.exec(update(AuditEntry).where(col(AuditEntry.id) == ids[3]).values(**values_a))
        session.exec(update(AuditEntry).where(col(AuditEntry.id) == ids[2]).values(**values_b))
    broken = report(engine, case_id).broken
    assert broken is not None and broken.entry_id == ids[2]
    assert "sequence" in broken.problem


def test_a_row_inserted_outside_the_trail_is_detected(engine: Engine) -> None:
    _, case_id = make_case(engine)
    with session_scope(engine) as session:
        forged = AuditEntry(case_id=case_id, actor="vlo.jones", action="note", at=datetime.now(UTC))
        session.add(forged)
        session.flush()
        forged_id = forged.id
    broken = report(engine, case_id).broken
    assert broken is not None and broken.entry_id == forged_id
    assert "not chained" in broken.problem


def test_a_forged_row_with_a_valid_hash_in_the_middle_is_detected(engine: Engine) -> None:
    """The forger knows the algorithm: the row hashes correctly and links to entry 2, but it
    sits after the last entry (row ids cannot be chosen after the fact)."""
    _, case_id = make_case(engine)
    ids = entry_ids(engine, case_id)
    with session_scope(engine) as session:
        second = session.get(AuditEntry, ids[1])
        assert second is not None
        session.exec(update(AuditEntry).where(col(AuditEntry.id) == ids[2]).values(sequence=-1))
        forged = AuditEntry(
            case_id=case_id,
            actor="vlo.jones",
            action="note",
            detail="forged",
            at=second.at,
            sequence=3,
            previous_hash=second.entry_hash,
        )
        forged.entry_hash = compute_hash(forged)
        session.add(forged)
    broken = report(engine, case_id).broken
    assert broken is not None and broken.entry_id == ids[2]


async def test_rehashed_or_truncated_chain_is_caught_against_an_earlier_export(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rewrite that recomputes every later hash, or removing the last entries, leaves a
    self-consistent chain: an export kept elsewhere shows it."""
    case_ref, case_id = make_case(engine)
    vcs = Vcs(cast(Client, None), engine)
    export = tmp_path / "audit.jsonl"
    assert await _run(vcs, "audit-export", "--case", case_ref, "--out", str(export)) == 0
    ids = entry_ids(engine, case_id)
    with session_scope(engine) as session:
        session.exec(delete(AuditEntry).where(col(AuditEntry.id) == ids[-1]))
    assert report(engine, case_id).intact  # the chain alone cannot tell
    capsys.readouterr()
    assert await _run(vcs, "audit-verify", "--case", case_ref, "--against", str(export)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and f"broken at entry {ids[-1]} " in err
    assert "no longer in the database" in err


async def _run(vcs: Vcs, *argv: str) -> int:
    lines: list[str] = []
    return await starter.run(list(argv), vcs=vcs, out=lines.append)


async def test_cli_export_and_verify(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case_ref, _case_id = make_case(engine)
    vcs = Vcs(cast(Client, None), engine)
    lines: list[str] = []
    code = await starter.run(["audit-export", "--case", case_ref], vcs=vcs, out=lines.append)
    assert code == 0 and len(lines) == 6
    records = [json.loads(line) for line in lines]
    assert [r["sequence"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert records[0]["previous_hash"] == GENESIS_HASH
    assert all(r["case_ref"] == case_ref and len(r["entry_hash"]) == 64 for r in records)

    path = tmp_path / "out.jsonl"
    lines = []
    code = await starter.run(
        ["audit-export", "--case", case_ref, "--out", str(path)], vcs=vcs, out=lines.append
    )
    assert code == 0 and "6 audit entries" in lines[0] and "chain intact" in lines[0]
    assert len(path.read_text().splitlines()) == 6

    lines = []
    code = await starter.run(["audit-verify", "--case", case_ref], vcs=vcs, out=lines.append)
    assert code == 0 and "intact: 6 entries" in lines[0]
    assert capsys.readouterr().err == ""
    code = await starter.run(
        ["audit-verify", "--case", case_ref, "--against", str(path)], vcs=vcs, out=lines.append
    )
    assert code == 0

    target = records[3]["id"]
    with session_scope(engine) as session:
        session.exec(update(AuditEntry).where(col(AuditEntry.id) == target).values(detail="x"))
    lines = []
    code = await starter.run(["audit-verify", "--case", case_ref], vcs=vcs, out=lines.append)
    err = capsys.readouterr().err
    assert code == 2 and lines == []
    assert err == (
        f"error: audit trail of case {case_ref} is broken at entry {target} (sequence 4): "
        "it does not match its hash: its contents were altered\n"
    )
    code = await starter.run(["audit-verify", "--case", "NOPE"], vcs=vcs, out=lines.append)
    assert code == 2 and "no case 'NOPE'" in capsys.readouterr().err


def test_concurrent_appends_keep_the_chain_valid(engine: Engine) -> None:
    """Eight writers at once on one case (and a second case): no sequence is taken twice and
    every link holds (per-case advisory lock on PostgreSQL, the write lock on SQLite)."""
    _case_ref, case_id = make_case(engine, extra_entries=0)
    _, other_id = make_case(engine, extra_entries=0)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(10):
                with session_scope(engine) as session:
                    append_audit(
                        session,
                        case_id=case_id if n % 4 else other_id,
                        actor="engine",
                        action="note",
                        detail=AuditDetail.of(writer=n, entry=i),
                    )
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    main, other = report(engine, case_id), report(engine, other_id)
    assert main.intact and main.entries == 2 + 60
    assert other.intact and other.entries == 2 + 20
