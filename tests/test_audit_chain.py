"""The audit trail's hash chain (models/audit_chain.py): any edit, deletion, insertion or
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
from temporalio.testing import WorkflowEnvironment

import starter
from activities.audit_check import audit_verify
from activities.audit_heads import STAMP, export_heads, write_once
from models.audit import AuditDetail
from models.audit_chain import GENESIS_HASH, append_audit, compute_hash, seals_of, verify_chain
from models.audit_key import DEVELOPMENT_AUDIT_KEY
from models.case_repository import register_case
from models.db import session_scope
from models.errors import VcsError
from models.records import AuditEntry, AuditSeal
from models.victim_repository import add_victim
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.helpers import registration, victim
from worker import build_worker
from workflows.audit_heads import AuditHeadsWorkflow


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
    with session_scope(engine) as session:  # its seal first, as the owner's login must
        session.exec(delete(AuditSeal).where(col(AuditSeal.entry_id) == ids[2]))
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
        session.exec(delete(AuditSeal).where(col(AuditSeal.entry_id) == ids[-1]))
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


# ---- the keyed chain and the exported heads (issue 16 item 2) ---------------------------------

KEY = DEVELOPMENT_AUDIT_KEY  # what the worker holds in the tests (VCS_DEVELOPMENT=1)


def rewrite_from(engine: Engine, case_id: int, target: int) -> None:
    """With the owner's login: change an entry and recompute every plain SHA-256 hash after it,
    as anyone could before the chain was keyed."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(col(AuditEntry.id))
        ).all()
        previous = GENESIS_HASH
        for row in rows:
            if row.id == target:
                row.detail = '{"step":99}'
            row.previous_hash = previous
            row.entry_hash = previous = compute_hash(row)
            session.add(row)


def keyed(engine: Engine, case_id: int):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return verify_chain(session, case_id, KEY)


def test_every_entry_is_sealed_with_the_workers_key(engine: Engine) -> None:
    _, case_id = make_case(engine)
    result = keyed(engine, case_id)
    assert result.intact and result.sealed == result.entries == 6
    with session_scope(engine) as session:
        seals = seals_of(session, case_id)
    assert [s.sequence for s in seals] == [1, 2, 3, 4, 5, 6]
    with session_scope(engine) as session:  # another key does not make the same seals
        other = verify_chain(session, case_id, b"another key of at least 32 bytes!!")
    assert other.broken is not None and other.broken.sequence == 1


def test_a_rewrite_with_recomputed_hashes_is_caught_by_the_seals(engine: Engine) -> None:
    """Recomputing plain SHA-256 is no longer enough: the seals need the worker's key."""
    _, case_id = make_case(engine)
    target = entry_ids(engine, case_id)[3]
    rewrite_from(engine, case_id, target)
    assert report(engine, case_id).intact  # the hash chain alone is fooled
    broken = keyed(engine, case_id).broken
    assert broken is not None and (broken.entry_id, broken.sequence) == (target, 4)
    assert "does not match its seal: it was rewritten" in broken.problem


def test_entries_written_without_the_key_are_sealed_by_the_worker(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The console and the CLI hold no key: their entries await their seals, which the worker
    adds (checking them first) at its next entry on the case or in the audit-heads job."""
    monkeypatch.delenv("VCS_DEVELOPMENT")
    case_ref, case_id = make_case(engine, extra_entries=1)
    unsealed = keyed(engine, case_id)
    assert unsealed.intact and (unsealed.entries, unsealed.sealed) == (3, 0)
    monkeypatch.setenv("VCS_DEVELOPMENT", "1")
    with session_scope(engine) as session:  # the worker's next entry seals all four
        append_audit(session, case_id=case_id, actor="system", action="note")
    assert keyed(engine, case_id).sealed == 4

    monkeypatch.delenv("VCS_DEVELOPMENT")
    with session_scope(engine) as session:
        append_audit(session, case_id=case_id, actor="vlo.jones", action="note")
    last = entry_ids(engine, case_id)[-1]
    with session_scope(engine) as session:  # altered before its seal: not vouched for
        session.exec(update(AuditEntry).where(col(AuditEntry.id) == last).values(detail="x"))
    result = export_heads(engine, KEY, tmp_path, datetime.now(UTC))
    assert result.sealed == 0 and result.exported == 1
    assert keyed(engine, case_id).sealed == 4
    assert case_ref in (tmp_path / str(result.file)).read_text()


def test_exported_heads_catch_a_truncated_or_resealed_tail(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VCS_AUDIT_HEADS_DIR", str(tmp_path))
    case_ref, case_id = make_case(engine)
    first = export_heads(engine, KEY, tmp_path, datetime.now(UTC))
    assert first.exported >= 1 and first.file is not None
    exported = tmp_path / first.file
    assert exported.stat().st_mode & 0o777 == 0o444
    line = next(json.loads(x) for x in exported.read_text().splitlines() if case_ref in x)
    assert set(line) == {"case_id", "case_ref", "sequence", "mac", "sealed_at", "exported_at"}
    assert line["sequence"] == 6
    assert audit_verify(engine, case_ref).heads == 1
    # A file is never written over.
    with pytest.raises(FileExistsError):
        write_once(tmp_path, datetime.strptime(first.file[12:33], STAMP).replace(tzinfo=UTC), [])

    # The owner's login cuts the last two entries off, seals and all: the chain is
    # self-consistent and its seals check, but the exported head is gone.
    ids = entry_ids(engine, case_id)
    with session_scope(engine) as session:
        for entry_id in ids[-2:]:
            session.exec(delete(AuditSeal).where(col(AuditSeal.entry_id) == entry_id))
            session.exec(delete(AuditEntry).where(col(AuditEntry.id) == entry_id))
    assert keyed(engine, case_id).intact
    broken = audit_verify(engine, case_ref).broken
    assert broken is not None and broken.sequence == 6
    assert "is no longer sealed: the chain was cut short" in broken.problem


def test_audit_verify_needs_the_workers_key(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_ref, _ = make_case(engine, extra_entries=0)
    monkeypatch.delenv("VCS_DEVELOPMENT")
    with pytest.raises(VcsError) as caught:
        audit_verify(engine, case_ref)
    assert str(caught.value).startswith(
        "audit-verify needs the audit key, which only the worker holds: set VCS_AUDIT_HMAC_KEY_FILE"
    )


def test_exported_heads_catch_a_tail_rewritten_and_sealed_again(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owner's login deletes the last seals and rewrites those entries with recomputed
    hashes, so that the worker seals them again as if the console had written them: the keyed
    chain checks, but the head exported before differs."""
    monkeypatch.setenv("VCS_AUDIT_HEADS_DIR", str(tmp_path))
    case_ref, case_id = make_case(engine)
    export_heads(engine, KEY, tmp_path, datetime.now(UTC))
    ids = entry_ids(engine, case_id)
    with session_scope(engine) as session:
        session.exec(delete(AuditSeal).where(col(AuditSeal.entry_id).in_(ids[-2:])))
    rewrite_from(engine, case_id, ids[-2])
    assert export_heads(engine, KEY, tmp_path, datetime.now(UTC)).sealed == 2
    assert keyed(engine, case_id).intact
    broken = audit_verify(engine, case_ref).broken
    assert broken is not None and (broken.entry_id, broken.sequence) == (ids[-1], 6)
    assert "differs from the head exported in audit-heads-" in broken.problem
    assert broken.problem.endswith(": the chain was rewritten")


async def test_the_audit_heads_job_runs_in_the_worker(
    engine: Engine,
    local_env: WorkflowEnvironment,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the hourly schedule starts (workflows/schedules.py `audit-heads`)."""
    monkeypatch.setenv("VCS_AUDIT_HEADS_DIR", str(tmp_path))
    monkeypatch.delenv("VCS_DEVELOPMENT")  # the CLI writes: unsealed
    case_ref, case_id = make_case(engine, extra_entries=0)
    monkeypatch.setenv("VCS_DEVELOPMENT", "1")
    async with build_worker(local_env.client, engine, task_queue):
        result = await local_env.client.execute_workflow(
            AuditHeadsWorkflow.run, id=f"vcs-audit-heads-{task_queue}", task_queue=task_queue
        )
    assert (result.sealed, result.exported) == (2, 1) and result.file is not None
    assert keyed(engine, case_id).sealed == 2
    assert audit_verify(engine, case_ref).heads == 1


def test_a_deleted_seal_is_detected(engine: Engine) -> None:
    _, case_id = make_case(engine)
    ids = entry_ids(engine, case_id)
    with session_scope(engine) as session:
        session.exec(delete(AuditSeal).where(col(AuditSeal.entry_id) == ids[2]))
    assert report(engine, case_id).intact
    broken = keyed(engine, case_id).broken
    assert broken is not None and (broken.entry_id, broken.sequence) == (ids[2], 3)
    assert "its seal was deleted" in broken.problem
