"""What every workflow here shares: activity calls, clocks, continue-as-new limits."""

import contextlib
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

# A run spans at most a year of simulated time before it continues as new: histories stay
# small however long the sentence, and no single timer outlives a server's run limits.
MAX_RUN_SPAN = timedelta(days=365)
MAX_HISTORY_EVENTS = 2_000

DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=["DataError"],
)

ENGINE_ACTOR = "engine"


def rejected(message: str) -> ApplicationError:
    """An update refused by its validator: one clear line, nothing changed."""
    return ApplicationError(message, type="InvalidAction", non_retryable=True)


async def call(activity_method: Callable[..., Any], *args: Any, summary: str | None = None) -> Any:
    """Run a database activity: short timeout, retried until the database answers, but a
    data error (non-retryable) fails at once with its message."""
    return await workflow.execute_activity_method(
        activity_method,
        args=list(args),
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=DB_RETRY,
        summary=summary,
    )


def today() -> date:
    return workflow.now().date()


def start_of(day: date) -> datetime:
    """Deadlines are whole days: a date falls due at the start of that day (UTC)."""
    return datetime.combine(day, time.min, tzinfo=workflow.now().tzinfo)


async def sleep_until(wake: date | None, run_started: datetime, woken: Callable[[], bool]) -> None:
    """Wait until the start of `wake`, the end of this run's span, or until `woken()`."""
    deadline = run_started + MAX_RUN_SPAN
    if wake is not None:
        deadline = min(deadline, start_of(wake))
    remaining = deadline - workflow.now()
    if remaining <= timedelta(0):
        return
    with contextlib.suppress(TimeoutError):
        await workflow.wait_condition(woken, timeout=remaining)


def should_continue_as_new(run_started: datetime) -> bool:
    info = workflow.info()
    return (
        info.is_continue_as_new_suggested()
        or info.get_current_history_length() > MAX_HISTORY_EVENTS
        or workflow.now() - run_started >= MAX_RUN_SPAN
    )
