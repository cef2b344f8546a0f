"""Hand-offs between providers, regions and VLOs, CRC events, and bulk transfers
(workflows/handoff_path.py, workflows/bulk_transfer.py)."""

import argparse

from cli.common import Command, Out, case_flag, parse_date
from models.errors import VcsError
from models.handoff import WithdrawalReason
from models.vocabulary import CrcEventKind, HandoffReason, Provider
from service.actor import Actor
from service.vcs import Vcs

WITHDRAWABLE = [r.value for r in WithdrawalReason if r is not WithdrawalReason.HANDOFF_FAILED]


async def request(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    missing = [
        "--" + f.replace("_", "-")
        for f in ("case_ref", "reason", "to_provider", "to_region", "to_vlo")
        if getattr(args, f) is None
    ]
    if missing:
        raise VcsError(f"handoff request needs {', '.join(missing)}")
    result = await vcs.request_handoff(
        args.case_ref,
        HandoffReason(args.reason),
        Provider(args.to_provider),
        args.to_region,
        args.to_vlo,
        actor,
    )
    out(result.message)


async def show(vcs: Vcs, handoff_id: str, actor: Actor, out: Out) -> None:
    view = await vcs.handoff_view(handoff_id, actor)
    out(
        f"{view.handoff_id} ({view.reason.value}{', bulk' if view.bulk else ''}): "
        f"{view.sender.describe()} -> {view.receiver.describe()}"
    )
    due = f", due {view.step_due_on}" if view.step_due_on else ""
    out(f"  step {view.step.value}; waiting for {view.waiting_for}{due}")
    for e in view.escalations:
        out(f"  escalated: {e.step.value} level {e.level} (task {e.task_id}, due {e.due_on})")
    for line in view.history:
        out(f"  {line}")


async def handoff(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    if args.action == "request":
        await request(vcs, args, actor, out)
        return
    if args.handoff is None and args.case_ref is None:
        raise VcsError(f"handoff {args.action} needs --handoff ID or --case REF")
    handoff_id = vcs.handoff_of(args.handoff, args.case_ref)
    if args.action == "supply":
        out((await vcs.handoff_supply(handoff_id, actor)).message)
    elif args.action == "accept":
        out((await vcs.handoff_accept(handoff_id, actor)).message)
    elif args.action == "withdraw":
        if args.why is None:
            raise VcsError(f"handoff withdraw needs --why: one of {', '.join(WITHDRAWABLE)}")
        reason = WithdrawalReason(args.why)
        out((await vcs.handoff_withdraw(handoff_id, reason, actor)).message)
    else:
        await show(vcs, handoff_id, actor, out)


async def crc_event(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    kind = CrcEventKind(args.kind)
    out((await vcs.report_crc_event(args.case_ref, kind, args.date, actor)).message)


async def progress(vcs: Vcs, bulk_id: str, actor: Actor, out: Out) -> None:
    p = await vcs.bulk_progress(bulk_id, actor)
    state = "finished" if p.finished else "paused" if p.paused else "running"
    remaining = "?" if p.remaining is None else str(p.remaining)
    out(
        f"bulk transfer {p.bulk_id} {p.from_provider.value} -> {p.to_provider.value}: "
        f"{state}; done {p.done}, skipped {p.skipped}, failed {p.failed}, "
        f"withdrawn {p.withdrawn}, remaining {remaining}, in flight {p.in_flight}, "
        f"waiting {len(p.waiting)}"
    )
    if p.failures:
        out(f"  failed cases: {', '.join(p.failures)}")
    for w in p.waiting:
        task = f"; escalated as task {w.escalation_task_id}" if w.escalation_task_id else ""
        out(f"  waiting since {w.since}: case {w.case_ref}, hand-off {w.handoff_id}{task}")


async def bulk_transfer(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    if args.action == "start":
        if args.from_provider is None or args.to_provider is None:
            raise VcsError("bulk-transfer start needs --from-provider and --to-provider")
        if args.page_size < 1:
            raise VcsError("--page-size must be at least 1")
        workflow_id = await vcs.bulk_start(
            args.bulk_id,
            Provider(args.from_provider),
            Provider(args.to_provider),
            actor,
            to_vlo=args.to_vlo,
            page_size=args.page_size,
            paused=args.paused,
        )
        how = "started paused (bulk-transfer resume --id ...)" if args.paused else "started"
        out(f"bulk transfer {how}: workflow {workflow_id} (bulk-transfer progress --id ...)")
    elif args.action == "pause":
        out((await vcs.bulk_pause(args.bulk_id, actor)).message)
    elif args.action == "resume":
        out((await vcs.bulk_resume(args.bulk_id, actor)).message)
    else:
        await progress(vcs, args.bulk_id, actor, out)


def add_commands(command: Command) -> None:
    p = command(
        "handoff",
        "hand a case to another provider/region/VLO: request, supply, accept, withdraw, show",
        handoff,
    )
    p.add_argument("action", choices=["request", "supply", "accept", "withdraw", "show"])
    p.add_argument("--case", dest="case_ref", help="the case (its latest hand-off if no --handoff)")
    p.add_argument("--handoff", help="the hand-off's ID (vcs-handoff-<case>-<n>)")
    p.add_argument("--reason", choices=[x.value for x in HandoffReason])
    p.add_argument("--to-provider", choices=[x.value for x in Provider])
    p.add_argument("--to-region")
    p.add_argument("--to-vlo")
    p.add_argument(
        "--why",
        choices=WITHDRAWABLE,
        help="withdraw: why (the receiving provider refusing the case: refused_by_receiver)",
    )

    p = command(
        "crc-event", "a CRC reports a key event of a case it supervises to the NPS VLO", crc_event
    )
    case_flag(p)
    p.add_argument("--kind", required=True, choices=[x.value for x in CrcEventKind])
    p.add_argument("--date", required=True, type=parse_date, help="when the event happened")

    p = command(
        "bulk-transfer",
        "move every open case of one provider to another (2021 unification): "
        "start, pause, resume, progress",
        bulk_transfer,
    )
    p.add_argument("action", choices=["start", "pause", "resume", "progress"])
    p.add_argument("--id", required=True, dest="bulk_id", help="names the operation")
    p.add_argument("--from-provider", choices=[x.value for x in Provider])
    p.add_argument("--to-provider", choices=[x.value for x in Provider])
    p.add_argument("--to-vlo", help="new responsible VLO (default: each case keeps its VLO)")
    p.add_argument("--page-size", type=int, default=50)
    p.add_argument(
        "--paused", action="store_true", help="start paused: nothing moves until it is resumed"
    )
