"""Prometheus metrics: the application's, on an endpoint of its own (`VCS_METRICS_ADDRESS`,
default 127.0.0.1:9464), beside the Temporal SDK runtime's (`VCS_TEMPORAL_METRICS_ADDRESS`,
default 127.0.0.1:9000), which also carries the activities' own counters such as
`vcs_notify_config_faults` (made with `activity.metric_meter()`).

The case gauges are counted from the case database at each scrape, so they are right after a
restart and whichever worker is scraped. Labels are regions, states, activity names and error
types: never a case reference, a victim or anything a victim wrote.
"""

from collections.abc import Iterator
from datetime import date
from typing import Any

from prometheus_client import CollectorRegistry, Counter, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, case, func
from sqlmodel import Session, col, select
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from models.case import OffenderCase
from models.delivery import CONFIG_FAULT, FAILED_STATUSES, REJECTED
from models.records import Correspondence, VloTask
from models.vocabulary import CaseStatus, TaskStatus
from models.working_days import london_today

DEFAULT_ADDRESS = "127.0.0.1:9464"
DEFAULT_TEMPORAL_ADDRESS = "127.0.0.1:9000"

# Each letter is in exactly one state. Undelivered: Notify could not deliver it or refused the
# address (a VLO task is open); failing: Notify refused our settings and it is retried until
# mended (ops act); sent: handed to Notify, or posted by the admin team; waiting: neither yet.
LETTER_STATES = ("waiting", "sent", "undelivered", "failing")

ACTIVITY_FAILURES = Counter(
    "vcs_activity_failures",
    "Activity attempts that ended in an error (each retry counts), by activity and error type",
    ["activity", "error"],
    registry=None,
)


class CaseMetrics(Collector):
    """Tasks open and overdue, and letters by state, per region: read at each scrape. The tasks
    are those the daily reconciliation counts (activities/reports.py): open, of open cases;
    overdue means due before today (London), as in its managers' report."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        today = london_today()
        with Session(self.engine) as session:
            yield from self._tasks(session, today)
            yield from self._letters(session)

    def _tasks(self, session: Session, today: date) -> Iterator[Metric]:
        overdue = func.sum(case((col(VloTask.due_on) < today, 1), else_=0))
        rows = session.exec(
            select(OffenderCase.region, func.count(), overdue)
            .join(OffenderCase, col(OffenderCase.id) == col(VloTask.case_id))
            .where(VloTask.status == TaskStatus.OPEN, OffenderCase.status == CaseStatus.OPEN)
            .group_by(OffenderCase.region)
        ).all()
        opened = GaugeMetricFamily("vcs_tasks_open", "VLO tasks open", labels=["region"])
        late = GaugeMetricFamily(
            "vcs_tasks_overdue", "VLO tasks open past their due date (London)", labels=["region"]
        )
        for region, count, overdue_count in rows:
            opened.add_metric([region], count)
            late.add_metric([region], overdue_count or 0)
        yield opened
        yield late

    def _letters(self, session: Session) -> Iterator[Metric]:
        status = col(Correspondence.delivery_status)
        state = case(
            (status.in_(sorted(FAILED_STATUSES | {REJECTED})), "undelivered"),
            (status == CONFIG_FAULT, "failing"),
            (
                col(Correspondence.sent_at).is_not(None)
                | col(Correspondence.posted_at).is_not(None),
                "sent",
            ),
            else_="waiting",
        )
        rows = session.exec(
            select(OffenderCase.region, state, func.count())
            .join(OffenderCase, col(OffenderCase.id) == col(Correspondence.case_id))
            .group_by(OffenderCase.region, state)
        ).all()
        letters = GaugeMetricFamily(
            "vcs_letters",
            "Letters and messages in the outbox by state: " + ", ".join(LETTER_STATES),
            labels=["region", "state"],
        )
        for region, letter_state, count in rows:
            letters.add_metric([region, letter_state], count)
        yield letters


def application_registry(engine: Engine) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CaseMetrics(engine))
    registry.register(ACTIVITY_FAILURES)
    return registry


def host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host or "0.0.0.0", int(port)


def serve_metrics(engine: Engine, address: str) -> Any:
    """Serve /metrics on `address` from a daemon thread; returns the server (to shut down)."""
    host, port = host_port(address)
    server, _thread = start_http_server(port, host, registry=application_registry(engine))
    return server


def sdk_runtime(address: str) -> Runtime:
    """A Temporal runtime whose SDK metrics (and activities' metric_meter() counters) are
    served for Prometheus on `address`. One per process: make it before the client."""
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


class _CountFailures(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await self.next.execute_activity(input)
        except CancelledError:
            raise  # cancelled by its workflow: not a failure
        except Exception as err:
            kind = err.type if isinstance(err, ApplicationError) and err.type else None
            name = getattr(input.fn, "__name__", "activity")
            ACTIVITY_FAILURES.labels(name, kind or type(err).__name__).inc()
            raise


class ActivityFailureMetrics(Interceptor):
    """Counts every failed activity attempt in `vcs_activity_failures_total`."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CountFailures(next)
