"""A case's audit trail for the auditor: export it with its hash chain, and verify it."""

import argparse
import json
from pathlib import Path

from cli.common import Command, Out, case_flag, read_text
from models.errors import VcsError
from service.actor import Actor
from service.audit_trail import export_text
from service.vcs import Vcs


async def export(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    """JSON Lines, one entry a line, with the hashes; the summary names the chain's head."""
    lines, report = vcs.audit_export(args.case_ref, actor)
    text = [json.dumps(line, ensure_ascii=False, sort_keys=True) for line in lines]
    state = (
        "chain intact"
        if report.broken is None
        else f"chain BROKEN at entry {report.broken.entry_id}: {report.broken.problem}"
    )
    if args.out is None:
        for line in text:
            out(line)
        return
    try:
        Path(args.out).write_text(export_text(lines), encoding="utf-8")
    except OSError as err:
        raise VcsError(f"cannot write {args.out}: {err.strerror}") from None
    out(f"{len(text)} audit entries of case {args.case_ref} written to {args.out}; {state}")
    if report.head_hash:
        out(f"chain head {report.head_hash} (keep it elsewhere to anchor the chain)")


def exported_entries(path: str, case_ref: str) -> list[dict[str, object]]:
    entries = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            raise VcsError(f"{path} line {number} is not JSON") from None
        if not isinstance(item, dict) or item.get("case_ref") != case_ref:
            raise VcsError(f"{path} line {number} is not an entry of case {case_ref}")
        entries.append(item)
    return entries


async def verify(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    case_ref, against = args.case_ref, args.against
    exported = exported_entries(against, case_ref) if against is not None else None
    report = vcs.audit_verify(case_ref, actor, exported)
    if report.broken is not None:
        raise VcsError(
            f"audit trail of case {case_ref} is broken at entry {report.broken.entry_id} "
            f"(sequence {report.broken.sequence}): it {report.broken.problem}"
        )
    anchored = f", and matches {against}" if against else ""
    out(
        f"audit trail of case {case_ref} is intact: {report.entries} entries{anchored}; "
        f"head {report.head_hash or '-'}"
    )


def add_commands(command: Command) -> None:
    p = command(
        "audit-export", "write a case's audit trail, with its hash chain, as JSON Lines", export
    )
    case_flag(p)
    p.add_argument("--out", metavar="FILE", help="the file to write (default: standard output)")

    p = command(
        "audit-verify",
        "check a case's audit trail has not been altered (exit 2 names the first broken entry)",
        verify,
    )
    case_flag(p)
    p.add_argument(
        "--against", metavar="FILE", help="an earlier audit-export: every entry must still be there"
    )
