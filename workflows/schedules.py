"""The scheduled jobs, as Temporal Schedules (not cron): created by the worker at start-up,
paused, resumed and triggered from the VLO command line (`starter.py schedules ...`) or the
Web UI (Schedules page).

Client-side code: it runs in the worker and CLI processes, never inside a workflow sandbox.

    reconciliation  vcs-daily-reconciliation  every day at 06:00 Europe/London
    retention       vcs-retention             every Sunday at 03:00 Europe/London
    delivery-status vcs-delivery-status       every hour (Notify's statuses of emails and texts)
    audit-heads     vcs-audit-heads           every hour (seal the audit trail, export its heads)

`ensure_schedules` is safe to call on every start: it creates a missing schedule and brings an
existing one to the current spec (times, task queue, input), keeping whether it is paused and
its note, so a restart never undoes an operator's pause.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from models.delivery import DeliveryPollInput
from models.errors import VcsError
from models.reports import ReconciliationInput, RetentionInput
from workflows.audit_heads import AuditHeadsWorkflow
from workflows.delivery import DeliveryStatusWorkflow
from workflows.reconciliation import DailyReconciliationWorkflow
from workflows.retention import RetentionWorkflow

TIME_ZONE = "Europe/London"  # the schedule follows British Summer Time
SUNDAY = 0  # ScheduleCalendarSpec counts days of the week from Sunday = 0


@dataclass(frozen=True)
class Job:
    name: str  # what a VLO types: starter.py schedules trigger NAME
    schedule_id: str
    workflow_id: str  # Temporal adds the scheduled time to it, one ID per run
    when: str
    build: Callable[[str], Schedule]


def _reconciliation(task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DailyReconciliationWorkflow.run,
            ReconciliationInput(),
            id="vcs-reconciliation",
            task_queue=task_queue,
            static_summary="Daily reconciliation of VLO tasks due and overdue",
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    hour=[ScheduleRange(6)], minute=[ScheduleRange(0)], second=[ScheduleRange(0)]
                )
            ],
            time_zone_name=TIME_ZONE,
        ),
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP,
            # Temporal down at 06:00: run once when it is back, the same morning.
            catchup_window=timedelta(hours=12),
        ),
        state=ScheduleState(note="created by the worker"),
    )


def _retention(task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RetentionWorkflow.run,
            RetentionInput(),
            id="vcs-retention",
            task_queue=task_queue,
            static_summary="Retention: erase personal data of cases closed past the period",
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    # 03:00 exists once on every Sunday, clock change or not.
                    hour=[ScheduleRange(3)],
                    minute=[ScheduleRange(0)],
                    second=[ScheduleRange(0)],
                    day_of_week=[ScheduleRange(SUNDAY)],
                )
            ],
            time_zone_name=TIME_ZONE,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=6)),
        state=ScheduleState(note="created by the worker"),
    )


def _hourly(action: ScheduleActionStartWorkflow) -> Schedule:
    """A job run every hour; a missed run is not caught up beyond the hour, nor overlapped."""
    return Schedule(
        action=action,
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]),
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(hours=1)
        ),
        state=ScheduleState(note="created by the worker"),
    )


def _delivery_status(task_queue: str) -> Schedule:
    # Hourly (local policy): a failure reaches a VLO the same working day, well inside
    # Notify's 7-day retention, at one look-up per message not yet final.
    return _hourly(
        ScheduleActionStartWorkflow(
            DeliveryStatusWorkflow.run,
            DeliveryPollInput(),
            id="vcs-delivery-status",
            task_queue=task_queue,
            static_summary="Delivery status of emails and texts sent through Notify",
        )
    )


def _audit_heads(task_queue: str) -> Schedule:
    # Hourly (local policy): an entry of the console or the CLI waits at most an hour for
    # its seal, and a chain changed since the last export is anchored within the hour.
    return _hourly(
        ScheduleActionStartWorkflow(
            AuditHeadsWorkflow.run,
            id="vcs-audit-heads",
            task_queue=task_queue,
            static_summary="Seal the audit trail and export each chain's head (write-once)",
        )
    )


JOBS: dict[str, Job] = {
    "reconciliation": Job(
        "reconciliation",
        "vcs-daily-reconciliation",
        "vcs-reconciliation",
        f"daily 06:00 {TIME_ZONE}",
        _reconciliation,
    ),
    "retention": Job(
        "retention",
        "vcs-retention",
        "vcs-retention",
        f"Sundays 03:00 {TIME_ZONE}",
        _retention,
    ),
    "delivery-status": Job(
        "delivery-status",
        "vcs-delivery-status",
        "vcs-delivery-status",
        "every hour",
        _delivery_status,
    ),
    "audit-heads": Job(
        "audit-heads", "vcs-audit-heads", "vcs-audit-heads", "every hour", _audit_heads
    ),
}


def job(name: str) -> Job:
    try:
        return JOBS[name]
    except KeyError:
        raise VcsError(f"no scheduled job {name!r}: one of {', '.join(JOBS)}") from None


async def ensure_schedule(client: Client, job: Job, task_queue: str) -> ScheduleHandle:
    """Create the schedule, or bring the existing one to the current spec (keeping its state)."""
    schedule = job.build(task_queue)
    try:
        return await client.create_schedule(job.schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        pass

    def updated(current: ScheduleUpdateInput) -> ScheduleUpdate:
        schedule.state = current.description.schedule.state  # paused stays paused
        return ScheduleUpdate(schedule=schedule)

    handle = client.get_schedule_handle(job.schedule_id)
    await handle.update(updated)
    return handle


async def ensure_schedules(client: Client, task_queue: str) -> list[ScheduleHandle]:
    """Every scheduled job, created or updated: safe on every worker start."""
    return [await ensure_schedule(client, job, task_queue) for job in JOBS.values()]


# ---- operating them ----------------------------------------------------------------------


def _missing(err: RPCError, schedule_id: str) -> Exception:
    if err.status is RPCStatusCode.NOT_FOUND:
        return VcsError(
            f"schedule {schedule_id} does not exist: start the worker, which creates it"
        )
    return err


async def pause(client: Client, name: str, by: str) -> Job:
    found = job(name)
    try:
        await client.get_schedule_handle(found.schedule_id).pause(note=f"paused by {by}")
    except RPCError as err:
        raise _missing(err, found.schedule_id) from None
    return found


async def unpause(client: Client, name: str, by: str) -> Job:
    found = job(name)
    try:
        await client.get_schedule_handle(found.schedule_id).unpause(note=f"resumed by {by}")
    except RPCError as err:
        raise _missing(err, found.schedule_id) from None
    return found


async def trigger(client: Client, name: str) -> Job:
    """Run the job now (paused or not). If a run is still going, the schedule's overlap
    policy (skip) applies: the running one finishes, no second one starts."""
    found = job(name)
    try:
        await client.get_schedule_handle(found.schedule_id).trigger()
    except RPCError as err:
        raise _missing(err, found.schedule_id) from None
    return found


@dataclass(frozen=True)
class ScheduleStatus:
    job: Job
    paused: bool
    note: str
    next_run: datetime | None
    last_run: datetime | None
    last_workflow_id: str | None
    running: int


async def describe(client: Client, name: str) -> ScheduleStatus:
    found = job(name)
    try:
        description: ScheduleDescription = await client.get_schedule_handle(
            found.schedule_id
        ).describe()
    except RPCError as err:
        raise _missing(err, found.schedule_id) from None
    info = description.info
    last = info.recent_actions[-1] if info.recent_actions else None
    last_action = last.action if last is not None else None
    return ScheduleStatus(
        job=found,
        paused=description.schedule.state.paused,
        note=description.schedule.state.note or "",
        next_run=info.next_action_times[0] if info.next_action_times else None,
        last_run=last.started_at if last is not None else None,
        last_workflow_id=(
            last_action.workflow_id
            if isinstance(last_action, ScheduleActionExecutionStartWorkflow)
            else None
        ),
        running=len(info.running_actions),
    )


async def describe_all(client: Client) -> list[ScheduleStatus]:
    return [await describe(client, name) for name in JOBS]
