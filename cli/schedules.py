"""The scheduled jobs (daily task reconciliation, retention, delivery status): list, pause,
unpause, run now."""

import argparse

from cli.common import Command, Out
from models.errors import VcsError
from service.actor import Actor
from service.records import SCHEDULED_JOBS as JOBS
from service.vcs import Vcs


async def schedules(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    action, name = args.action, args.name
    if action == "list":
        for status in await vcs.schedules(actor, name):
            job = status.job
            state = "paused" if status.paused else "active"
            line = f"{job.name:<15} {job.schedule_id:<25} {state:<7} {job.when}"
            if status.next_run and not status.paused:
                line += f"; next {status.next_run:%Y-%m-%d %H:%M} UTC"
            if status.last_run:
                line += f"; last {status.last_run:%Y-%m-%d %H:%M} UTC ({status.last_workflow_id})"
            if status.running:
                line += "; running now"
            if status.note:
                line += f"; note: {status.note}"
            out(line)
        return
    if name is None:
        raise VcsError(f"schedules {action} needs a NAME: {' or '.join(JOBS)}")
    if action == "pause":
        job = await vcs.pause_schedule(actor, name)
        out(f"{job.name} ({job.schedule_id}) paused: no run starts until it is unpaused")
    elif action == "unpause":
        job = await vcs.unpause_schedule(actor, name)
        out(f"{job.name} ({job.schedule_id}) unpaused: next run {job.when}")
    else:
        job = await vcs.trigger_schedule(actor, name)
        out(f"{job.name} ({job.schedule_id}) triggered: a run starts now (schedules list)")


def add_commands(command: Command) -> None:
    p = command(
        "schedules",
        "the scheduled jobs (daily task reconciliation, retention): list, pause, resume, run now",
        schedules,
    )
    p.add_argument("action", choices=["list", "pause", "unpause", "trigger"])
    p.add_argument(
        "name",
        nargs="?",
        choices=list(JOBS),
        metavar="NAME",
        help=f"the job: {' or '.join(JOBS)} (all of them for list)",
    )
