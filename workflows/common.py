"""What every workflow here shares: activity calls, clocks, continue-as-new limits.

One engine: database steps run as local activities inside the workflow task that decided them
(a VLO's update is answered without a round trip through the server, and all of a task's steps
are one Temporal action), the wake-up timer is kept while its date stands, and a run spans up to
four years before it continues as new. A change to this code, or to any workflow's, follows
README "Changing a workflow safely" (and its patch ledger).
"""

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    FailureError,
    RetryState,
)

with workflow.unsafe.imports_passed_through():
    from activities.calendar import CalendarActivities, running_out
    from models.messages import Scheduled
    from models.policy import Policy
    from models.working_days import london_date, wake_time

# A run spans at most four years of time before it continues as new. Histories stay small
# (quiet years add a fired timer each), a sentence of up to four years needs no continue-as-new,
# and no run nears the time-skipping test server's ten-year cap.
MAX_RUN_SPAN = timedelta(days=4 * 365)
MAX_HISTORY_EVENTS = 2_000

DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=["DataError"],
)

# A local activity gets three quick tries inside the workflow task (well within the local
# retry threshold, so no backoff timer); a step still failing then runs as an ordinary
# activity, retried by the server and visible to ops in the Web UI with its last failure.
LOCAL_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=100),
    maximum_interval=timedelta(seconds=1),
    maximum_attempts=3,
    non_retryable_error_types=DB_RETRY.non_retryable_error_types,
)
LOCAL_TIMEOUT = timedelta(seconds=10)

ENGINE_ACTOR = "engine"


def rejected(message: str) -> ApplicationError:
    """An update refused by its validator: one clear line, nothing changed."""
    return ApplicationError(message, type="InvalidAction", non_retryable=True)


async def call(
    activity_method: Callable[..., Any],
    *args: Any,
    summary: str | None = None,
    local_id: str | None = None,
    extra_time: timedelta = timedelta(0),
) -> Any:
    """Run a database activity: short timeout, retried until the database answers, but a
    data error (non-retryable) fails at once with its message. It is tried as a local
    activity first (every step is idempotent by its key, so running it again is harmless);
    `local_id`: that local activity's ID (history shows it unencrypted); `extra_time`: what
    the activity may need beyond a database write (letters waiting for Notify)."""
    try:
        return await workflow.execute_local_activity_method(
            activity_method,
            args=list(args),
            start_to_close_timeout=LOCAL_TIMEOUT + extra_time,
            retry_policy=LOCAL_RETRY,
            summary=summary,
            activity_id=local_id,
        )
    except FailureError as err:
        # A local activity's failure arrives as its cause (no ActivityError around it).
        if isinstance(err, CancelledError):
            raise
        cause = err.cause if isinstance(err, ActivityError) else err
        if isinstance(cause, ApplicationError) and (
            cause.non_retryable or cause.type in (LOCAL_RETRY.non_retryable_error_types or [])
        ):
            if isinstance(err, ActivityError):
                raise
            # Callers see what an ordinary activity's failure looks like.
            raise ActivityError(
                "local activity failed",
                scheduled_event_id=0,
                started_event_id=0,
                identity="",
                activity_type=getattr(activity_method, "__name__", "activity"),
                activity_id="",
                retry_state=RetryState.NON_RETRYABLE_FAILURE,
            ) from cause
        workflow.logger.warning("local step %s still failing: retrying as an activity", summary)
    return await workflow.execute_activity_method(
        activity_method,
        args=list(args),
        start_to_close_timeout=timedelta(seconds=30) + extra_time,
        retry_policy=DB_RETRY,
        summary=summary,
        activity_id=None if local_id is None else f"{local_id}@{workflow.uuid4()}",
    )


def today() -> date:
    """The workflow's today: the date in London (the scheme's days), not in UTC."""
    return london_date(workflow.now())


def wakes_at(day: date) -> datetime:
    """When this workflow wakes for `day`: at its own time early in that London day
    (models/working_days.py), the same in every run of it, so cases due on one day wake spread
    out rather than all at midnight. What falls due, and when, is still counted in dates."""
    return wake_time(day, workflow.info().workflow_id)


class WakeTimer:
    """The wake-up timer: kept while the date it waits for stands, so a VLO action or a
    case event that wakes the loop without changing what falls due next does not cancel it
    and start another (every timer started is a Temporal action)."""

    def __init__(self) -> None:
        self.deadline: datetime | None = None
        self.timer: asyncio.Task[None] | None = None

    async def wait(self, deadline: datetime, woken: Callable[[], bool]) -> None:
        if self.timer is None or self.deadline != deadline:
            if self.timer is not None:
                self.timer.cancel()
            remaining = deadline - workflow.now()
            if remaining <= timedelta(0):
                self.timer = None
                return
            self.deadline = deadline
            self.timer = asyncio.create_task(asyncio.sleep(remaining.total_seconds()))
        timer = self.timer
        await workflow.wait_condition(lambda: timer.done() or woken())
        if timer.done():
            self.timer = None


async def sleep_until(
    wake: date | None,
    run_started: datetime,
    woken: Callable[[], bool],
    timer: WakeTimer,
) -> None:
    """Wait until this workflow's time on `wake` (`wakes_at`; at once if that has passed), the
    end of this run's span, or until `woken()`."""
    deadline = run_started + MAX_RUN_SPAN
    if wake is not None:
        deadline = min(deadline, wakes_at(wake))
    if not woken():
        await timer.wait(deadline, woken)


async def renewed(policy: Policy) -> Policy:
    """The policy for the next run: its calendar renewed (recorded as an activity's result) if
    it is running out."""
    if not running_out(policy.calendar, today()):
        return policy
    fresh = await call(CalendarActivities.bank_holidays, today(), summary="renew bank holidays")
    return policy.model_copy(update={"calendar": fresh})


def should_continue_as_new(run_started: datetime, span: timedelta | None = None) -> bool:
    """Time for a new run: the server suggests it, the history is long, or the run has spanned
    its span (MAX_RUN_SPAN, or `span` for a workflow that keeps its own)."""
    info = workflow.info()
    return (
        info.is_continue_as_new_suggested()
        or info.get_current_history_length() > MAX_HISTORY_EVENTS
        or workflow.now() - run_started >= (span or MAX_RUN_SPAN)
    )


def next_note(scheduled: list[Scheduled]) -> str:
    """What a VLO's confirmation says the engine does next: the earliest thing scheduled."""
    if not scheduled:
        return "nothing further is scheduled"
    first = min(scheduled, key=lambda item: item.on)
    return f"next: {first.what} on {first.on}"
