"""Commands about the work: open tasks, completing one, and a case's timeline (what happened
and what is scheduled next)."""

import argparse

from cli.common import Command, Out, case_flag, positive_id, read_text, text_file_flag
from models.audit import readable
from models.delivery import delivery_words
from service.actor import Actor
from service.timeline import engine_view
from service.vcs import Vcs


async def tasks(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    rows = vcs.open_tasks(actor, case_ref=args.case_ref, vlo=args.vlo)
    if not rows:
        out("no open tasks")
    for task, case_ref in rows:
        whose = f"victim {task.victim_id}" if task.victim_id else "case"
        where = f"{case_ref} {whose}  [{task.assigned_to}]"
        out(f"task {task.id}: due {task.due_on}  {where}  {task.title}")


async def complete_task(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    if args.case_ref is not None:
        vcs.task_on_case(args.task, args.case_ref)
    outcome = read_text(args.text_file).strip() if args.text_file else "done"
    out((await vcs.complete_task(args.task, actor, outcome)).message)


async def reassign_task(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    out(vcs.reassign_task(args.task, args.to_vlo, actor).message)


async def timeline(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    await print_timeline(vcs, actor, args.case_ref, out)


async def print_timeline(vcs: Vcs, actor: Actor, case_ref: str, out: Out) -> None:
    audit, letters = vcs.history(case_ref, actor)
    events = [
        (
            e.at,
            f"{e.action}: {readable(e.detail)}".rstrip(": ")
            + (f" (victim {e.victim_id})" if e.victim_id else "")
            + f" [{e.actor}]",
        )
        for e in audit
    ]
    events += [
        (
            c.created_at,
            f"letter {c.kind.value} queued for victim {c.victim_id} by {c.channel.value}"
            + delivery_words(c),
        )
        for c in letters
    ]
    out(f"case {case_ref}: what happened")
    for at, text in sorted(events, key=lambda e: e[0]):
        out(f"  {at:%Y-%m-%d %H:%M}  {text}")
    out("scheduled next")
    view = await engine_view(vcs, actor, case_ref)
    for victim_id in view.victims_not_running:
        out(f"  victim {victim_id}: recorded, not yet taken in by the case (add-victim again)")
    for on, text in view.scheduled:
        out(f"  {on}  {text}")


def add_commands(command: Command) -> None:
    p = command("tasks", "list open VLO tasks of a case, or of a VLO", tasks)
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--case", dest="case_ref")
    who.add_argument("--vlo", help="a VLO of your region (yours: your CLI identity)")

    p = command("complete-task", "complete a VLO task", complete_task)
    p.add_argument("--task", required=True, type=positive_id)
    p.add_argument("--case", dest="case_ref", help="the task's case: refused if it is another's")
    text_file_flag(p, "the outcome (default: done)", required=False)

    p = command(
        "reassign-task", "give an open task of your region to another VLO (seniors)", reassign_task
    )
    p.add_argument("--task", required=True, type=positive_id)
    p.add_argument("--to", dest="to_vlo", required=True, help="the new VLO's user name")

    p = command("timeline", "what has happened on a case and what is scheduled next", timeline)
    case_flag(p)
