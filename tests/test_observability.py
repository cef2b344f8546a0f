"""Observability (ops/metrics.py, ops/tracing.py): the application's and the Temporal SDK's
Prometheus endpoints scraped while a case runs; a VLO's action traced from the client through
the workflow to its activities; spans exported over OTLP when an endpoint is set."""

import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any, ClassVar, cast

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput

from activities.delivery import CONFIG_FAULT_METRIC
from activities.letters import LetterActivities
from models.case import OffenderCase
from models.codec import data_converter
from models.db import session_scope
from models.delivery import CONFIG_FAULT, DELIVERED, PERMANENT_FAILURE
from models.records import Correspondence, VloTask
from models.vocabulary import CaseStatus, Channel, Language, LetterKind, TaskKind, TaskStatus
from models.working_days import london_today
from ops.metrics import (
    ACTIVITY_FAILURES,
    ActivityFailureMetrics,
    application_registry,
    sdk_runtime,
    serve_metrics,
)
from ops.tracing import tracing_interceptor
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.fake_notify import FakeNotify, serving_in_thread
from tests.helpers import VLO_ACTOR, eventually, registration, tasks, victim
from tests.test_notify import EMAIL, NAME, fake_notify, scenario
from worker import build_worker, connect, serve_worker_metrics
from workflows.case import case_workflow_id

__all__ = ["fake_notify"]  # a fixture, shared with its own module

REGION = "Yorkshire and the Humber"  # tests.helpers.registration's


def free_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def scrape(address: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample on http://address/metrics, parsed as Prometheus parses it."""
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def families(address: str) -> set[str]:
    """The metric names served (a counter's without its _total, as Prometheus names them)."""
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as response:
        return {family.name for family in text_string_to_metric_families(response.read().decode())}


@pytest.fixture
def app_metrics(engine: Engine) -> Iterator[str]:
    address = free_address()
    server = serve_metrics(engine, address)
    yield address
    server.shutdown()


async def test_metrics_scraped_through_a_case(
    local_env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    fake_notify: FakeNotify,
    app_metrics: str,
) -> None:
    """Register a case, add a victim (the offer task opens), the VLO makes the offer (the email
    goes to Notify): the application's endpoint shows the region's open task, then the letter
    sent; the SDK's endpoint shows Temporal's own metrics."""
    sdk_address = free_address()
    client = await Client.connect(
        local_env.client.service_client.config.target_host,
        namespace=local_env.client.namespace,
        data_converter=data_converter(),
        runtime=sdk_runtime(sdk_address),
    )
    vcs = Vcs(client, engine, task_queue)
    assert value(scrape(app_metrics), "vcs_tasks_open", region=REGION) is None
    async with build_worker(client, engine, task_queue):
        case_ref = unique_ref("OBS")
        today = (await local_env.get_current_time()).date()
        await vcs.register_case(registration(case_ref, today), actor=VLO_ACTOR)
        victim_id, _ = await vcs.add_victim(
            case_ref, victim(NAME, preferred_channel=Channel.EMAIL, email=EMAIL), actor=VLO_ACTOR
        )
        [offer] = await eventually(lambda: tasks(engine, victim_id))
        assert offer.kind is TaskKind.OFFER_SCHEME and offer.id is not None
        samples = scrape(app_metrics)
        assert value(samples, "vcs_tasks_open", region=REGION) == 1
        assert value(samples, "vcs_tasks_overdue", region=REGION) == 0
        assert value(samples, "vcs_letters", region=REGION, state="sent") is None

        await vcs.complete_task(offer.id, actor=VLO_ACTOR, outcome="emailed the offer")
        await eventually(lambda: fake_notify.notifications)
        samples = scrape(app_metrics)
        assert value(samples, "vcs_letters", region=REGION, state="sent") == 1
        assert value(samples, "vcs_tasks_open", region=REGION) is None  # none left open

        sdk = scrape(sdk_address)
        served = families(sdk_address)
        assert {"temporal_request", "temporal_workflow_task_execution_latency"} <= served
        # the action's steps, the letter among them, timed (one local activity: the update
        # waits for it; workflows/steps.py)
        assert any(dict(labels).get("activity_type") == "apply" for _, labels in sdk)
    text = repr(samples) + repr(sdk)
    assert NAME not in text and EMAIL not in text and case_ref not in text


def test_notify_config_faults_appear_on_the_sdk_endpoint(engine: Engine) -> None:
    """The activities' own counter (activity.metric_meter()) is served with the SDK's."""
    address = free_address()
    runtime = sdk_runtime(address)
    s = scenario(engine, Channel.EMAIL)
    with serving_in_thread() as fake, pytest.MonkeyPatch.context() as patch:
        for name, setting in fake.env().items():
            patch.setenv(name, setting)
        fake.refuse_posts_with = (403, "AuthError", "Invalid token: API key not found")
        for _ in range(2):
            env = ActivityEnvironment()
            env.metric_meter = runtime.metric_meter
            with pytest.raises(ApplicationError):
                env.run(LetterActivities(engine).send_letter, s.request())
    assert CONFIG_FAULT_METRIC in families(address)
    samples = scrape(address)
    assert [v for (name, _), v in samples.items() if name.startswith(CONFIG_FAULT_METRIC)] == [2]


def test_overdue_undelivered_and_failing_are_counted_per_region(engine: Engine) -> None:
    """Read from the database at each scrape: an open task past its due date is overdue (London
    day), a done one or one of a closed case is not counted (as in the daily reconciliation);
    each letter is in one state."""
    s, closed = scenario(engine, Channel.EMAIL), scenario(engine, Channel.EMAIL)
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        closed_case = session.get(OffenderCase, closed.case_id)
        assert closed_case is not None
        closed_case.status = CaseStatus.CLOSED
        session.add(closed_case)
        for case_id, key, due, status in (
            (s.case_id, "late", london_today() - timedelta(days=1), TaskStatus.OPEN),
            (s.case_id, "today", london_today(), TaskStatus.OPEN),
            (s.case_id, "done", london_today() - timedelta(days=9), TaskStatus.DONE),
            (closed.case_id, "closed", london_today() - timedelta(days=9), TaskStatus.OPEN),
        ):
            session.add(
                VloTask(
                    task_key=f"obs-{case_id}-{key}", workflow_id="wf", case_id=case_id,
                    victim_id=None, kind=TaskKind.OFFER_SCHEME, title="Offer",
                    assigned_to="vlo.jones", due_on=due, status=status, created_at=now,
                )
            )  # fmt: skip
        letters: dict[str, dict[str, Any]] = {
            "waiting": {},
            "sent": {"sent_at": now, "delivery_status": DELIVERED},
            "undelivered": {"sent_at": now, "delivery_status": PERMANENT_FAILURE},
            "failing": {"delivery_status": CONFIG_FAULT},
        }
        for state, fields in letters.items():
            session.add(
                Correspondence(
                    idempotency_key=f"obs-{s.case_id}:letter:{state}", case_id=s.case_id,
                    victim_id=s.victim_id, kind=LetterKind.OFFER, channel=Channel.EMAIL,
                    language=Language.ENGLISH, body="-", created_at=now, **fields,
                )
            )  # fmt: skip
    registry = application_registry(engine)
    sample = registry.get_sample_value
    assert sample("vcs_tasks_open", {"region": REGION}) == 2
    assert sample("vcs_tasks_overdue", {"region": REGION}) == 1
    for state in letters:
        assert sample("vcs_letters", {"region": REGION, "state": state}) == 1


async def test_failed_activity_attempts_are_counted() -> None:
    class Failing(ActivityInboundInterceptor):
        async def execute_activity(self, input: ExecuteActivityInput) -> Any:
            raise ApplicationError("no", type="NotifyConfigFault")

    def send_letter() -> None: ...

    attempt = ActivityFailureMetrics().intercept_activity(
        Failing(cast(ActivityInboundInterceptor, None))
    )
    registry = CollectorRegistry()
    registry.register(ACTIVITY_FAILURES)
    labels = {"activity": "send_letter", "error": "NotifyConfigFault"}
    before = registry.get_sample_value("vcs_activity_failures_total", labels) or 0
    with pytest.raises(ApplicationError):
        await attempt.execute_activity(cast(ExecuteActivityInput, SimpleNamespace(fn=send_letter)))
    assert registry.get_sample_value("vcs_activity_failures_total", labels) == before + 1


async def test_a_vlo_action_is_traced_from_client_to_activities(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """Completing the offer task (an update, as the CLI and console send it): the client's
    update span is linked from the case workflow's update handler, and the activities the
    handler runs (scheduled, then run by the worker) are in the workflow's trace with it, which
    starts at the client's add-victim (TracingInterceptor keeps a workflow's spans in one
    trace; an update or signal joins it by a link). No personal data in any span."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    client = Client(
        local_env.client.service_client,
        namespace=local_env.client.namespace,
        data_converter=data_converter(),
        interceptors=[tracing_interceptor(provider.get_tracer("vcs-test"))],
    )
    vcs = Vcs(client, engine, task_queue)
    async with build_worker(client, engine, task_queue):
        case_ref = unique_ref("TRC")
        today = (await local_env.get_current_time()).date()
        await vcs.register_case(registration(case_ref, today), actor=VLO_ACTOR)
        victim_id, _ = await vcs.add_victim(case_ref, victim(NAME), actor=VLO_ACTOR)
        [offer] = await eventually(lambda: tasks(engine, victim_id))
        assert offer.id is not None
        await vcs.complete_task(offer.id, actor=VLO_ACTOR, outcome="phoned; offer explained")
    spans = exporter.get_finished_spans()

    def one(name: str) -> ReadableSpan:
        [span] = [s for s in spans if s.name == name]
        return span

    # The case's workflow started with the registration (update-with-start); adding the
    # victim is the second such call, to the running workflow.
    start, _ = sorted(
        (
            s
            for s in spans
            if s.name == "StartUpdateWithStartWorkflow:VictimContactCase"
            and (s.attributes or {}).get("temporalWorkflowID") == case_workflow_id(case_ref)
        ),
        key=lambda s: s.start_time or 0,
    )
    update, handler = one("StartWorkflowUpdate:complete_task"), one("HandleUpdate:complete_task")
    assert start.context and update.context and handler.context
    assert [link.context.span_id for link in handler.links] == [update.context.span_id]
    trace_id = start.context.trace_id
    assert handler.context.trace_id == trace_id
    # The action's steps, the letter among them, run as one activity (workflows/steps.py): the
    # last one scheduled is the action's.
    scheduled = max(
        (s for s in spans if s.name == "StartActivity:apply"), key=lambda s: s.start_time or 0
    )
    assert scheduled.context and scheduled.context.trace_id == trace_id
    [ran] = [
        s
        for s in spans
        if s.name == "RunActivity:apply"
        and s.parent
        and s.parent.span_id == scheduled.context.span_id
    ]
    assert ran.context and ran.context.trace_id == trace_id
    attributes = repr([(s.name, dict(s.attributes or {})) for s in spans])
    assert NAME not in attributes and "Test Street" not in attributes


async def test_the_worker_process_serves_both_endpoints_and_traces_its_client(
    local_env: WorkflowEnvironment, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """worker.main's wiring: the application's endpoint and the SDK runtime on the configured
    addresses; the client from worker.connect (the CLI's too) carries the tracing interceptor."""
    app_address, sdk_address = free_address(), free_address()
    monkeypatch.setenv("VCS_METRICS_ADDRESS", app_address)
    monkeypatch.setenv("VCS_TEMPORAL_METRICS_ADDRESS", sdk_address)
    monkeypatch.setenv("TEMPORAL_ADDRESS", local_env.client.service_client.config.target_host)
    monkeypatch.setenv("TEMPORAL_NAMESPACE", local_env.client.namespace)
    client = await connect(serve_worker_metrics(engine), service="vcs-worker")
    assert any(isinstance(i, TracingInterceptor) for i in client.config()["interceptors"])
    await client.count_workflows()
    assert "temporal_request" in families(sdk_address)
    assert {"vcs_tasks_open", "vcs_letters", "vcs_activity_failures"} <= families(app_address)

    monkeypatch.setenv("VCS_METRICS_ADDRESS", "")
    monkeypatch.setenv("VCS_TEMPORAL_METRICS_ADDRESS", "")
    assert serve_worker_metrics(engine) is None  # both off


async def test_a_workflow_started_untraced_is_traced_from_its_next_action(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """A case registered before tracing was turned on (or a scheduled job, which no client
    span starts): the VLO's next action still shows the activities it ran. (Its handler's span
    needs the trace its workflow was started in: the SDK's TracingInterceptor makes workflow
    spans only inside one.)"""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    untraced = Vcs(local_env.client, engine, task_queue)
    traced_client = Client(
        local_env.client.service_client,
        namespace=local_env.client.namespace,
        data_converter=data_converter(),
        interceptors=[tracing_interceptor(provider.get_tracer("vcs-test"))],
    )
    async with build_worker(traced_client, engine, task_queue):
        case_ref = unique_ref("TRC")
        today = (await local_env.get_current_time()).date()
        await untraced.register_case(registration(case_ref, today), actor=VLO_ACTOR)
        victim_id, _ = await untraced.add_victim(case_ref, victim(NAME), actor=VLO_ACTOR)
        [offer] = await eventually(lambda: tasks(engine, victim_id))
        assert offer.id is not None
        traced = Vcs(traced_client, engine, task_queue)
        await traced.complete_task(offer.id, actor=VLO_ACTOR, outcome="phoned; offer explained")
    names = {s.name for s in exporter.get_finished_spans()}
    # close_tasks and send_letter, as one activity (workflows/steps.py)
    assert "RunActivity:apply" in names, sorted(names)


class _Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector's door: keeps what is posted to it."""

    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_spans_are_exported_over_otlp_when_an_endpoint_is_set() -> None:
    """ops.tracing.configure_tracing from the standard OTEL_* settings, in a process of its
    own (the global tracer provider is set once per process); nothing without an endpoint."""
    collector = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    probe = (
        "from opentelemetry import trace\n"
        "from ops.tracing import configure_tracing\n"
        "print(configure_tracing('vcs-probe'))\n"
        "with trace.get_tracer('probe').start_as_current_span('probe-span'): pass\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    try:
        off = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
        assert off.stdout.strip() == "False" and _Collector.received == []
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{collector.server_port}"
        on = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
        assert on.stdout.strip() == "True", on.stderr
    finally:
        collector.shutdown()
    [(path, body)] = _Collector.received  # flushed as the process exits
    assert path == "/v1/traces" and b"probe-span" in body and b"vcs-probe" in body
