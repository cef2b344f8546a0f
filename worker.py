"""The worker: runs every workflow and activity of the Victim Contact Scheme.

    python worker.py            # connects with the default envconfig profile / TEMPORAL_* vars

Logs carry case references, victim IDs and stages, never a victim's name, address or words.
"""

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec, SourceFileLoader
from types import CodeType, ModuleType
from typing import ClassVar

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.envconfig import ClientConfig
from temporalio.runtime import Runtime
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.audit_heads import AuditHeadActivities
from activities.calendar import CalendarActivities
from activities.case_store import CaseStoreActivities
from activities.delivery import DeliveryActivities
from activities.failures import ShortFailuresInterceptor
from activities.handoff import HandoffStarterActivities, HandoffStoreActivities
from activities.hospital import HospitalActivities
from activities.letters import LetterActivities
from activities.parole import ParoleActivities
from activities.reports import ReportActivities
from activities.retention import RetentionActivities
from activities.steps import StepsActivities
from activities.tasks import TaskActivities
from models.codec import data_converter
from models.db import make_engine
from models.health import serve_health
from models.startup import ready_or_exit
from models.temporal_access import add_credentials, keep_api_key_fresh
from ops import metrics
from ops.metrics import ActivityFailureMetrics
from ops.tracing import configure_tracing, tracing_interceptor
from workflows.audit_heads import AuditHeadsWorkflow
from workflows.bulk_transfer import BulkTransferWorkflow
from workflows.case import CaseWorkflow
from workflows.delivery import DeliveryStatusWorkflow
from workflows.reconciliation import DailyReconciliationWorkflow
from workflows.retention import RetentionWorkflow
from workflows.schedules import ensure_schedules
from workflows.search import ensure_search_attributes

TASK_QUEUE = os.environ.get("VCS_TASK_QUEUE", "victim-contact")
# Idle cases replay when their timer fires: a bounded cache keeps memory flat at 100,000 cases.
MAX_CACHED_WORKFLOWS = int(os.environ.get("VCS_MAX_CACHED_WORKFLOWS", "2000"))
MAX_CONCURRENT_ACTIVITIES = int(os.environ.get("VCS_MAX_CONCURRENT_ACTIVITIES", "16"))
# Near the cores: at the SDK's 100, 500 cases due at once timed out 481 and 839 workflow tasks
# (over 10 s); at 8 or 4, none, at the same rate or better (bench/scale-2026-12-06.md).
MAX_CONCURRENT_WORKFLOW_TASKS = int(os.environ.get("VCS_MAX_CONCURRENT_WORKFLOW_TASKS", "8"))

log = logging.getLogger("vcs.worker")

# Deterministic libraries the workflows use, loaded once outside the sandbox.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "pydantic", "sqlmodel", "sqlalchemy"
    )
)


async def connect(runtime: Runtime | None = None, service: str = "vcs") -> Client:
    """Connect using the envconfig profile (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, ...)
    and the credentials models/temporal_access.py describes (none for the dev server), traced
    as `service` (ops/tracing.py); `runtime`: the worker's, serving the SDK's metrics."""
    config = add_credentials(dict(ClientConfig.load_client_connect_config()))
    config.setdefault("target_host", "localhost:7233")
    configure_tracing(service)
    return await Client.connect(
        **config,
        data_converter=data_converter(),
        interceptors=[tracing_interceptor()],
        runtime=runtime,
    )


class _SharedCodeLoader(SourceFileLoader):
    """A module's code object, compiled once per version of its file and shared (see
    SharedWorkflowCode)."""

    _compiled: ClassVar[dict[tuple[str, int, int], CodeType]] = {}

    def get_code(self, fullname: str) -> CodeType:
        stat = os.stat(self.path)
        version = (self.path, stat.st_mtime_ns, stat.st_size)
        code = self._compiled.get(version)
        if code is None:
            code = super().get_code(fullname)
            assert code is not None  # a source file always has code
            self._compiled[version] = code
        return code


class SharedWorkflowCode(MetaPathFinder):
    """The sandbox imports the workflow modules afresh for every workflow it creates or holds in
    its cache, and each import compiled (or unmarshalled) its own copy of their code objects:
    measured with bench/run.py's scale benchmark, most of a cached workflow's ~460 KiB, and
    without a bytecode cache (PYTHONDONTWRITEBYTECODE, common in containers) 17% of the
    worker's CPU. Code objects are immutable, so every import of one version of a file shares
    the one compiled first; each workflow still gets its own module, functions and globals, as
    the sandbox requires. An edited file is a new version (its modification time and size)."""

    PACKAGES = ("workflows",)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] not in self.PACKAGES:
            return None
        for finder in sys.meta_path:  # the finder that would have found it (an editable install's)
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if type(spec.loader) is SourceFileLoader:
                    spec.loader = _SharedCodeLoader(spec.loader.name, spec.loader.path)
                return spec
        return None

    @classmethod
    def install(cls) -> None:
        """Put the finder first on sys.meta_path, once per process."""
        if not any(isinstance(finder, cls) for finder in sys.meta_path):
            sys.meta_path.insert(0, cls())


def build_worker(client: Client, engine: Engine, task_queue: str = TASK_QUEUE) -> Worker:
    SharedWorkflowCode.install()
    activity_objects = [
        CaseStoreActivities(engine),
        TaskActivities(engine),
        LetterActivities(engine),
        DeliveryActivities(engine),
        ReportActivities(engine),
        RetentionActivities(engine),
        HandoffStoreActivities(engine),
        HandoffStarterActivities(client, task_queue),
        HospitalActivities(engine),
        ParoleActivities(engine),
        CalendarActivities(),
        AuditHeadActivities(engine),
        StepsActivities(engine),
    ]
    activities = [
        getattr(obj, name)
        for obj in activity_objects
        for name in dir(obj)
        if hasattr(getattr(obj, name), "__temporal_activity_definition")
    ]
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[
            CaseWorkflow,
            DailyReconciliationWorkflow,
            RetentionWorkflow,
            DeliveryStatusWorkflow,
            BulkTransferWorkflow,
            AuditHeadsWorkflow,
        ],
        workflow_runner=SANDBOX,
        activities=activities,
        activity_executor=ThreadPoolExecutor(MAX_CONCURRENT_ACTIVITIES),
        max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
        max_cached_workflows=MAX_CACHED_WORKFLOWS,
        max_concurrent_workflow_tasks=MAX_CONCURRENT_WORKFLOW_TASKS,
        interceptors=[ShortFailuresInterceptor(), ActivityFailureMetrics()],
        graceful_shutdown_timeout=timedelta(seconds=10),
    )


def serve_worker_metrics(engine: Engine) -> Runtime | None:
    """Serve the application's metrics and make the runtime serving the Temporal SDK's
    (ops/metrics.py); an empty address turns either off."""
    address = os.environ.get("VCS_METRICS_ADDRESS", metrics.DEFAULT_ADDRESS)
    if address:
        metrics.serve_metrics(engine, address)
        log.info("application metrics on http://%s/metrics", address)
    temporal_address = os.environ.get(
        "VCS_TEMPORAL_METRICS_ADDRESS", metrics.DEFAULT_TEMPORAL_ADDRESS
    )
    if not temporal_address:
        return None
    log.info("Temporal SDK metrics on http://%s/metrics", temporal_address)
    return metrics.sdk_runtime(temporal_address)


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    engine = make_engine()
    ready_or_exit(engine, worker=True)
    client = await connect(serve_worker_metrics(engine), service="vcs-worker")
    added = await ensure_search_attributes(client)
    if added:
        log.info("registered search attributes %s", ", ".join(added))
    await ensure_schedules(client, TASK_QUEUE)
    worker = build_worker(client, engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    refresh = asyncio.create_task(keep_api_key_fresh(client))
    async with worker:
        health = await serve_health(worker, client)
        log.info("worker running on task queue %s", TASK_QUEUE)
        await stop.wait()
        log.info("shutting down: finishing activities in flight")
        if health is not None:
            await health.cleanup()
    refresh.cancel()
    log.info("worker stopped")


async def register_search_attributes() -> None:
    """`python worker.py search-attributes`: register the engine's search attributes and stop
    (an operator's one-shot on a namespace the worker may not administer)."""
    added = await ensure_search_attributes(await connect())
    print(f"search attributes added: {', '.join(added)}" if added else "search attributes ready")


if __name__ == "__main__":
    if sys.argv[1:] == ["search-attributes"]:
        asyncio.run(register_search_attributes())
        sys.stdout.flush()
        os._exit(0)  # skip teardown: the Temporal client's native threads can abort it
    asyncio.run(main())
