"""What a failed activity attempt tells the Temporal server: short enough to keep.

The server keeps at most about 2 KB of a retrying activity's last failure (temporalio/temporal
PR 4338); a database error with its stack and causes, encrypted, is larger, so ops saw only
"Failure exceeds size limit." in the Web UI. An unexpected error (not already an
ApplicationError) is therefore reported as a retryable ApplicationError holding its type and
the first line of its message, without the chained causes; the worker's log keeps the whole
traceback. SQL parameters never appear in either (models/db.py sets hide_parameters).
"""

import logging
from typing import Any

from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

MAX_MESSAGE = 300
log = logging.getLogger("vcs.activities")


def short_failure(err: BaseException) -> ApplicationError:
    lines = str(err).strip().splitlines()
    first = lines[0] if lines else ""
    if len(first) > MAX_MESSAGE:
        first = first[: MAX_MESSAGE - 3] + "..."
    return ApplicationError(f"{first} (will retry)", type=type(err).__name__)


class _ShortFailures(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await self.next.execute_activity(input)
        except (ApplicationError, CancelledError):
            raise
        except Exception as err:
            name = getattr(input.fn, "__name__", "activity")
            log.warning("activity %r attempt failed; it will retry", name, exc_info=True)
            raise short_failure(err) from None


class ShortFailuresInterceptor(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ShortFailures(next)
