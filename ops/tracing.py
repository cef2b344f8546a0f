"""OpenTelemetry tracing across the client, workflows and activities.

`TracingInterceptor` (temporalio.contrib.opentelemetry) on the client: a worker made from that
client uses it too. It carries the trace context in Temporal headers, so a VLO's action (an
update sent by the CLI or the console) -> the workflow's handler -> the activities it runs
share one trace. Spans name workflow types, update and activity names and carry workflow and
activity IDs (case references and victim IDs, as the logs do): never a payload.

Spans are exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, with the exporter's other standard `OTEL_*`
settings; otherwise nothing is recorded.
"""

import os

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from temporalio.contrib.opentelemetry import TracingInterceptor

ENDPOINT_SETTINGS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_configured = False


def configure_tracing(service_name: str = "vcs") -> bool:
    """Install the OTLP exporter as the global tracer provider, once per process, if an
    endpoint is configured. True if spans will be exported."""
    global _configured
    if _configured:
        return True
    if not any(os.environ.get(name) for name in ENDPOINT_SETTINGS):
        return False
    name = os.environ.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)  # flushed at exit by the provider's own atexit hook
    _configured = True
    return True


def tracing_interceptor(tracer: trace.Tracer | None = None) -> TracingInterceptor:
    """The interceptor for Client.connect (`tracer`: a test's own, else the global one)."""
    return TracingInterceptor(tracer)
