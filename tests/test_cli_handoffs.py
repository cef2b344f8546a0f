"""The command line for issue 4 (hand-offs, CRC events, bulk transfers, information sharing,
the audit trail, domestic homicide reviews), against a real Temporal dev server.

Each command: its happy path, and a bad input refused with one clear line (exit 2) that
changes nothing. The error contract on every call is checked by tests/cli_harness.py.
"""

import asyncio
import json
import re
from pathlib import Path

from sqlmodel import select

from models.case import OffenderCase
from models.db import session_scope
from models.handoff import CaseHandoff
from models.records import AuditEntry, VloTask
from models.sharing import Disclosure, SuppliedInformation
from models.vocabulary import HandoffStep, Provider, TaskKind, TaskStatus
from tests.cli_harness import Cli, add_victim, case_args, count, today
from tests.conftest import unique_ref
from tests.helpers import eventually, tasks

REGION = "Yorkshire and the Humber"
NEW_VLO = "vlo.smith"


async def crc_case(cli: Cli, *extra: str) -> str:
    case_ref = unique_ref("CLI")
    await cli.ok(*case_args(case_ref, today()), "--provider", "CRC", *extra)
    return case_ref


def case_row(cli: Cli, case_ref: str) -> OffenderCase:
    with session_scope(cli.engine) as session:
        return session.exec(select(OffenderCase).where(OffenderCase.case_ref == case_ref)).one()


def handoff_rows(cli: Cli) -> list[CaseHandoff]:
    with session_scope(cli.engine) as session:
        return list(session.exec(select(CaseHandoff).order_by(CaseHandoff.id)).all())  # type: ignore[arg-type]


def open_tasks_of(cli: Cli, kind: TaskKind) -> list[VloTask]:
    return [t for t in tasks(cli.engine) if t.kind is kind]


def audit_count(cli: Cli) -> int:
    return count(cli.engine, AuditEntry)


# ---- handoff, and complete-task on a hand-off's task ----------------------------------------


async def test_handoff_request_supply_by_task_withdraw_then_accept(cli: Cli) -> None:
    case_ref = await crc_case(cli)
    request = ["handoff", "request", "--case", case_ref, "--reason", "risk_escalation"]
    target = ["--to-provider", "NPS", "--to-region", REGION, "--to-vlo", NEW_VLO]

    error = await cli.refused(*request)
    assert "handoff request needs --to-provider, --to-region, --to-vlo" in error
    assert handoff_rows(cli) == []

    first = f"vcs-handoff-{case_ref}-1"
    [line] = await cli.ok(*request, *target)
    assert line.startswith(f"hand-off {first} requested: vlo.jones (CRC) to supply")
    [supply] = await eventually(lambda: open_tasks_of(cli, TaskKind.HANDOFF_SUPPLY))
    [listed] = await cli.ok("tasks", "--case", case_ref)
    assert listed.startswith(f"task {supply.id}: due {supply.due_on}  {case_ref} case")
    assert "Supply the case information for hand-off (risk_escalation)" in listed
    shown = await cli.ok("handoff", "show", "--case", case_ref)
    assert shown[0] == (
        f"{first} (risk_escalation): CRC/{REGION}/vlo.jones -> NPS/{REGION}/{NEW_VLO}"
    )
    assert shown[1] == (
        f"  step requested; waiting for vlo.jones to supply the case information, "
        f"due {supply.due_on}"
    )

    error = await cli.refused("handoff", "accept", "--case", case_ref)
    assert "has not supplied the case information yet" in error

    # complete-task on the supply task supplies the case information.
    [line] = await cli.ok(
        "complete-task", "--task", str(supply.id), "--text-file", cli.text("sent")
    )
    assert line.startswith(f"{first}: case information supplied; {NEW_VLO} to accept by ")
    [accept] = await eventually(lambda: open_tasks_of(cli, TaskKind.HANDOFF_ACCEPT))
    assert accept.assigned_to == NEW_VLO

    # The receiving provider refuses it: a withdrawal, with that reason.
    error = await cli.refused("handoff", "withdraw", "--case", case_ref)
    assert "handoff withdraw needs --why: one of requested_in_error" in error
    assert handoff_rows(cli)[0].step is HandoffStep.SUPPLIED
    [line] = await cli.ok("handoff", "withdraw", "--case", case_ref, "--why", "refused_by_receiver")
    assert line == (
        f"{first} withdrawn (refused_by_receiver): case {case_ref} stays with "
        f"CRC/{REGION}/vlo.jones; its hand-off tasks are closed"
    )
    assert open_tasks_of(cli, TaskKind.HANDOFF_ACCEPT) == []
    error = await cli.refused("handoff", "accept", "--case", case_ref)
    assert f"{first} was withdrawn (refused_by_receiver)" in error
    error = await cli.refused("complete-task", "--task", str(accept.id))
    assert f"{first} was withdrawn (refused_by_receiver)" in error
    assert case_row(cli, case_ref).provider is Provider.CRC
    assert [h.step for h in handoff_rows(cli)] == [HandoffStep.WITHDRAWN]

    # A second hand-off goes through; once accepted it cannot be withdrawn.
    second = f"vcs-handoff-{case_ref}-2"
    await cli.ok(*request, *target)
    assert await cli.ok("handoff", "supply", "--handoff", second) == [
        f"{second}: case information supplied; {NEW_VLO} to accept by "
        f"{(await eventually(lambda: open_tasks_of(cli, TaskKind.HANDOFF_ACCEPT)))[0].due_on}"
    ]
    assert await cli.ok("handoff", "accept", "--handoff", second) == [
        f"{second}: accepted; case {case_ref} is now with NPS/{REGION}/{NEW_VLO}"
    ]
    row = case_row(cli, case_ref)
    assert (row.provider, row.responsible_vlo) == (Provider.NPS, NEW_VLO)
    error = await cli.refused(
        "handoff", "withdraw", "--handoff", second, "--why", "requested_in_error"
    )
    assert f"{second} was already accepted" in error and "cannot be withdrawn" in error
    assert [h.step for h in handoff_rows(cli)] == [HandoffStep.WITHDRAWN, HandoffStep.SWITCHED]
    assert case_row(cli, case_ref).provider is Provider.NPS
    # The earlier one is still shown (from its row: the case holds its latest hand-off).
    shown = await cli.ok("handoff", "show", "--handoff", first)
    assert shown[0] == (
        f"{first} (risk_escalation): CRC/{REGION}/vlo.jones -> NPS/{REGION}/{NEW_VLO}"
    )
    assert shown[1].startswith("  step withdrawn; waiting for nothing: withdrawn")

    error = await cli.refused("handoff", "show", "--handoff", "vcs-handoff-NOPE-1")
    assert "no hand-off vcs-handoff-NOPE-1" in error


# ---- crc-event and dhr ------------------------------------------------------------------------


async def test_crc_event_and_dhr_open_tasks_and_refuse_bad_dates(cli: Cli) -> None:
    case_ref = await crc_case(cli)
    day = today()

    [line] = await cli.ok("crc-event", "--case", case_ref, "--kind", "breach", "--date", str(day))
    [event] = await eventually(lambda: open_tasks_of(cli, TaskKind.CRC_EVENT))
    assert line == (
        f"breach of {day} reported on time; task {event.id} for vlo.jones due {event.due_on}"
    )
    future = day.replace(year=day.year + 1)
    error = await cli.refused(
        "crc-event", "--case", case_ref, "--kind", "recall", "--date", str(future)
    )
    assert f"recall date {future} is in the future" in error
    error = await cli.refused(
        "crc-event", "--case", case_ref, "--kind", "breach", "--date", str(day)
    )
    assert f"breach of {day} is already reported" in error
    assert len(open_tasks_of(cli, TaskKind.CRC_EVENT)) == 1

    due = day.replace(year=day.year + 1)
    dhr = ["dhr", "--case", case_ref, "--reviewed-by", "Leeds Community Safety Partnership"]
    [line] = await cli.ok(*dhr, "--directed-on", str(day), "--due", str(due))
    [review] = await eventually(lambda: open_tasks_of(cli, TaskKind.DOMESTIC_HOMICIDE_REVIEW))
    assert line == f"domestic homicide review recorded: task {review.id} due {due}"
    assert (review.due_on, review.assigned_to) == (due, "vlo.jones")
    before = audit_count(cli)
    error = await cli.refused(*dhr, "--directed-on", str(day), "--due", str(day.replace(year=2000)))
    assert "before it was directed" in error
    assert len(open_tasks_of(cli, TaskKind.DOMESTIC_HOMICIDE_REVIEW)) == 1
    assert audit_count(cli) == before


# ---- bulk-transfer ------------------------------------------------------------------------------


async def test_bulk_transfer_start_paused_resume_and_progress(cli: Cli) -> None:
    refs = [await crc_case(cli) for _ in range(3)]
    bulk_id = unique_ref("BULK")
    start = ["bulk-transfer", "start", "--id", bulk_id]

    error = await cli.refused(*start, "--from-provider", "CRC")
    assert "bulk-transfer start needs --from-provider and --to-provider" in error
    error = await cli.refused(*start, "--from-provider", "CRC", "--to-provider", "CRC")
    assert "between two different providers" in error
    error = await cli.refused(
        *start, "--from-provider", "CRC", "--to-provider", "NPS", "--page-size", "0"
    )
    assert "--page-size must be at least 1" in error
    error = await cli.refused("bulk-transfer", "progress", "--id", bulk_id)
    assert f"workflow vcs-bulk-transfer-{bulk_id} is not running" in error
    assert handoff_rows(cli) == []

    [line] = await cli.ok(
        *start, "--from-provider", "CRC", "--to-provider", "NPS", "--page-size", "2", "--paused"
    )
    assert line.startswith(f"bulk transfer started paused (bulk-transfer resume --id ...): "
                           f"workflow vcs-bulk-transfer-{bulk_id}")  # fmt: skip
    assert await cli.ok("bulk-transfer", "progress", "--id", bulk_id) == [
        f"bulk transfer {bulk_id} CRC -> NPS: paused; done 0, skipped 0, failed 0, "
        "withdrawn 0, remaining ?, in flight 0, waiting 0"
    ]
    error = await cli.refused("bulk-transfer", "pause", "--id", bulk_id)
    assert f"bulk transfer {bulk_id} is already paused" in error
    assert handoff_rows(cli) == []
    assert all(case_row(cli, r).provider is Provider.CRC for r in refs)

    assert await cli.ok("bulk-transfer", "resume", "--id", bulk_id) == [
        f"bulk transfer {bulk_id} resumed"
    ]
    finished = (
        f"bulk transfer {bulk_id} CRC -> NPS: finished; done 3, skipped 0, failed 0, "
        "withdrawn 0, remaining 0, in flight 0, waiting 0"
    )

    async def progress() -> list[str]:
        return await cli.ok("bulk-transfer", "progress", "--id", bulk_id)

    for _ in range(100):
        if await progress() == [finished]:
            break
        await asyncio.sleep(0.1)
    assert await progress() == [finished]
    assert all(case_row(cli, r).provider is Provider.NPS for r in refs)
    assert len(handoff_rows(cli)) == 3
    error = await cli.refused("bulk-transfer", "resume", "--id", bulk_id)
    assert f"vcs-bulk-transfer-{bulk_id}" in error and "not running" in error


# ---- information sharing: record-supplied, disclose, disclosures --------------------------------


async def test_record_supplied_disclose_and_disclosures(cli: Cli) -> None:
    case_ref = await crc_case(cli)
    victim_id = await add_victim(cli, case_ref)
    day = str(today())
    supplied = [
        "record-supplied", "--case", case_ref, "--agency", "NHS Leeds",
        "--category", "risk_information", "--received-on", day,
    ]  # fmt: skip

    error = await cli.refused(*supplied, "--consent", "named_agencies", "--consent-to", "Police")
    assert "consent to onward disclosure must be written" in error
    assert count(cli.engine, SuppliedInformation) == 0
    [line] = await cli.ok(
        *supplied, "--consent", "named_agencies", "--consent-to", "West Yorkshire Police",
        "--consent-ref", "NHS/17",
    )  # fmt: skip
    match = re.fullmatch(r"supplied information (\d+) recorded", line)
    assert match
    supplied_id = match.group(1)

    disclose = [
        "disclose", "--case", case_ref, "--to", "West Yorkshire Police",
        "--recipient-kind", "police", "--purpose", "risk management meeting",
        "--share", "licence_conditions", "--supplied", supplied_id,
    ]  # fmt: skip
    error = await cli.refused(*disclose)
    assert error.startswith("error: disclosure refused: no lawful basis recorded")
    error = await cli.refused(
        *disclose,
        "--basis",
        "cda1998_s115",
        "--share",
        "victim_address",
        "--victim",
        str(victim_id),
    )
    assert "a victim's address leaves the system only to hospital managers" in error
    assert count(cli.engine, Disclosure) == 0
    assert await cli.ok("disclosures", "--case", case_ref) == ["no disclosures recorded"]

    [line] = await cli.ok(*disclose, "--basis", "cda1998_s115")
    match = re.fullmatch(r"disclosure (\d+) recorded and audited", line)
    assert match
    [listed] = await cli.ok("disclosures", "--case", case_ref)
    assert listed.startswith(f"disclosure {match.group(1)}: ")
    assert "to West Yorkshire Police (police) under cda1998_s115 by vlo.jones" in listed
    assert f"licence_conditions, risk_information (supplied {supplied_id})" in listed
    assert listed.endswith("purpose: risk management meeting")
    error = await cli.refused("disclosures", "--case", "NO-SUCH-CASE")
    assert "no case 'NO-SUCH-CASE'" in error


# ---- audit-export and audit-verify --------------------------------------------------------------


async def test_audit_export_and_verify(cli: Cli, tmp_path: Path) -> None:
    case_ref = await crc_case(cli)
    await cli.ok("crc-event", "--case", case_ref, "--kind", "breach", "--date", str(today()))
    await eventually(lambda: open_tasks_of(cli, TaskKind.CRC_EVENT))
    entries = count(cli.engine, AuditEntry, AuditEntry.case_id == case_row(cli, case_ref).id)

    lines = await cli.ok("audit-export", "--case", case_ref)
    records = [json.loads(line) for line in lines]
    assert len(records) == entries
    assert [r["sequence"] for r in records] == list(range(1, entries + 1))
    assert {r["case_ref"] for r in records} == {case_ref}
    assert "crc_event_reported" in {r["action"] for r in records}

    export = tmp_path / "audit.jsonl"
    written = await cli.ok("audit-export", "--case", case_ref, "--out", str(export))
    assert written[0] == (
        f"{entries} audit entries of case {case_ref} written to {export}; chain intact"
    )
    assert (
        written[1]
        == f"chain head {records[-1]['entry_hash']} (keep it elsewhere to anchor the chain)"
    )
    assert await cli.ok("audit-verify", "--case", case_ref, "--against", str(export)) == [
        f"audit trail of case {case_ref} is intact: {entries} entries, and matches {export}; "
        f"head {records[-1]['entry_hash']}"
    ]

    missing = tmp_path / "no-such-folder" / "audit.jsonl"
    error = await cli.refused("audit-export", "--case", case_ref, "--out", str(missing))
    assert f"cannot write {missing}" in error
    assert not missing.parent.exists()
    garbled = tmp_path / "garbled.jsonl"
    garbled.write_text(export.read_text().replace("{", "[", 1), encoding="utf-8")
    error = await cli.refused("audit-verify", "--case", case_ref, "--against", str(garbled))
    assert f"{garbled} line 1 is not JSON" in error
    other = await crc_case(cli)
    error = await cli.refused("audit-verify", "--case", other, "--against", str(export))
    assert f"{export} line 1 is not an entry of case {other}" in error
    assert (
        count(cli.engine, AuditEntry, AuditEntry.case_id == case_row(cli, case_ref).id) == entries
    )
    assert [t.status for t in open_tasks_of(cli, TaskKind.CRC_EVENT)] == [TaskStatus.OPEN]
