"""The worker's health endpoint, for the compose healthcheck: GET /healthz answers 200 while
the worker is running and the Temporal frontend answers its gRPC health check, else 503. It
says only that, never a case or a person, and listens on 127.0.0.1 by default (the
healthcheck runs inside the container).

    VCS_WORKER_HEALTH_PORT=8082 python worker.py       # unset or 0: no endpoint
    python -m models.health http://127.0.0.1:8082/healthz   # the probe: exit 0 if healthy
"""

import os
import ssl
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web

if TYPE_CHECKING:  # the probe, run by every healthcheck, need not load the SDK
    from temporalio.client import Client
    from temporalio.worker import Worker

HEALTH_PORT = "VCS_WORKER_HEALTH_PORT"
HEALTH_HOST = "VCS_WORKER_HEALTH_HOST"
TEMPORAL_TIMEOUT = timedelta(seconds=3)
PROBE_TIMEOUT_SECONDS = 5.0


async def temporal_reachable(client: "Client") -> bool:
    try:
        return await client.service_client.check_health(timeout=TEMPORAL_TIMEOUT)
    except Exception:  # any failure to answer is "not reachable", whatever the transport says
        return False


def health_app(worker: "Worker", client: "Client") -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        running = worker.is_running and not worker.is_shutdown
        reachable = await temporal_reachable(client)
        body = {
            "status": "ok" if running and reachable else "unhealthy",
            "worker": "running" if running else "stopped",
            "temporal": "reachable" if reachable else "unreachable",
        }
        return web.json_response(body, status=200 if running and reachable else 503)

    app = web.Application()
    app.add_routes([web.get("/healthz", healthz)])
    return app


async def serve_health(worker: "Worker", client: "Client") -> web.AppRunner | None:
    """Start the endpoint if VCS_WORKER_HEALTH_PORT is set; the caller cleans up the runner."""
    port = int(os.environ.get(HEALTH_PORT, "0") or "0")
    if not port:
        return None
    runner = web.AppRunner(health_app(worker, client), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, os.environ.get(HEALTH_HOST, "127.0.0.1"), port).start()
    return runner


def probe(url: str) -> int:
    """0 if `url` answers 2xx, else 1 (the compose healthcheck; the image has no curl). On
    this machine's loopback the certificate is not checked: the probe asks a process in its
    own container whether it is up, and the name it asks by is not the certificate's."""
    context = None
    if urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1"):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(
            url, timeout=PROBE_TIMEOUT_SECONDS, context=context
        ) as response:
            return 0 if 200 <= response.status < 300 else 1
    except (urllib.error.URLError, OSError) as err:
        print(f"unhealthy: {url}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(probe(sys.argv[1]))
