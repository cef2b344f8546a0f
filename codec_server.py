"""The codec server: lets the Temporal Web UI and CLI show what the engine stored encrypted.

    VCS_CODEC_TOKEN=... python codec_server.py        # http://127.0.0.1:8081

Temporal's codec server protocol: POST /decode (and /encode) take and return
`{"payloads": [...]}`, the Payloads protobuf as JSON. Every request needs
`Authorization: Bearer <VCS_CODEC_TOKEN>`: 401 without one, 403 with a wrong one. Browsers may
call it from the origins in VCS_CODEC_CORS_ORIGINS (comma-separated; default the dev server's
Web UI, http://localhost:8233). Keys come from VCS_CODEC_KEYS / VCS_CODEC_ACTIVE_KEY as for the
worker (models/codec.py). VCS_CODEC_HOST (default 127.0.0.1) and VCS_CODEC_PORT (default 8081)
say where it listens; it speaks plain HTTP, so put TLS in front of it beyond this machine.

Logs carry the method, path, status, payload count and namespace: never payload content, never
the token.
"""

import hmac
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import hdrs, web
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from models.codec import CodecError, EncryptionCodec, load_keys

DEFAULT_CORS_ORIGINS = "http://localhost:8233"
DEFAULT_PORT = 8081
MIN_TOKEN_LENGTH = 16
MAX_BODY = 16 * 1024 * 1024  # a page of history: Temporal's own limit is 2 MiB a payload
ALLOWED_HEADERS = "authorization, content-type, x-namespace"

log = logging.getLogger("vcs.codec_server")
PAYLOAD_COUNT = web.RequestKey("payload_count", int)

Transform = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def refuse(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


def build_app(codec: EncryptionCodec, token: str, cors_origins: Sequence[str]) -> web.Application:
    if len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(f"the codec server token must be at least {MIN_TOKEN_LENGTH} characters")
    expected = token.encode()
    origins = frozenset(origin.strip().rstrip("/") for origin in cors_origins if origin.strip())

    def allowed_origin(request: web.Request) -> str | None:
        origin = request.headers.get(hdrs.ORIGIN)
        return origin if origin in origins else None

    @web.middleware
    async def cors_and_log(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.monotonic()
        origin = allowed_origin(request)
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # unknown path, wrong method, body too large
            if origin:
                exc.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
                exc.headers[hdrs.VARY] = "Origin"
            log_request(request, exc.status, started)
            raise
        if origin:
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
            response.headers[hdrs.VARY] = "Origin"
        log_request(request, response.status, started)
        return response

    async def preflight(request: web.Request) -> web.Response:
        """CORS preflight: carries no token (browsers never send one), so it is answered for
        the allowed origins without one."""
        if allowed_origin(request) is None:
            return refuse(403, "origin not allowed")
        return web.Response(
            status=204,
            headers={
                hdrs.ACCESS_CONTROL_ALLOW_METHODS: "POST, OPTIONS",
                hdrs.ACCESS_CONTROL_ALLOW_HEADERS: ALLOWED_HEADERS,
                hdrs.ACCESS_CONTROL_MAX_AGE: "600",
            },
        )

    def unauthorised(request: web.Request) -> web.Response | None:
        scheme, _, supplied = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
        supplied = supplied.strip()
        if scheme.lower() != "bearer" or not supplied:
            return refuse(401, "a bearer token is required", **{hdrs.WWW_AUTHENTICATE: "Bearer"})
        if not hmac.compare_digest(supplied.encode(), expected):
            return refuse(403, "token refused")
        return None

    def endpoint(transform: Transform) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            refusal = unauthorised(request)  # before the body is read
            if refusal is not None:
                return refusal
            if request.content_type != "application/json":
                return refuse(415, "send application/json")
            try:
                payloads = json_format.Parse(
                    await request.read(), Payloads(), ignore_unknown_fields=True
                )
            except (json_format.ParseError, UnicodeDecodeError):
                # The parser's message may quote the body: say what was expected instead.
                return refuse(400, 'expected {"payloads": [...]}, Payloads as protobuf JSON')
            request[PAYLOAD_COUNT] = len(payloads.payloads)
            try:
                result = await transform(payloads.payloads)
            except CodecError as err:  # names a key id, never content
                log.warning("%s %s refused: %s", request.method, request.path, err)
                return refuse(422, str(err))
            body = json_format.MessageToJson(Payloads(payloads=result), indent=None)
            return web.Response(text=body, content_type="application/json")

        return handle

    app = web.Application(middlewares=[cors_and_log], client_max_size=MAX_BODY)
    app.add_routes(
        [
            web.post("/decode", endpoint(codec.decode)),
            web.post("/encode", endpoint(codec.encode)),
            web.options("/decode", preflight),
            web.options("/encode", preflight),
        ]
    )
    return app


def log_request(request: web.Request, status: int, started: float) -> None:
    count = request.get(PAYLOAD_COUNT)
    log.info(
        "%s %s -> %d%s namespace=%r from %s in %.0f ms",
        request.method,
        request.path,
        status,
        f" ({count} payloads)" if count is not None else "",
        request.headers.get("X-Namespace", "")[:100],
        request.remote,
        (time.monotonic() - started) * 1000,
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    token = os.environ.get("VCS_CODEC_TOKEN", "")
    origins = os.environ.get("VCS_CODEC_CORS_ORIGINS", DEFAULT_CORS_ORIGINS).split(",")
    host = os.environ.get("VCS_CODEC_HOST", "127.0.0.1")
    port = int(os.environ.get("VCS_CODEC_PORT", str(DEFAULT_PORT)))
    if not token:
        sys.exit("error: set VCS_CODEC_TOKEN (for example: openssl rand -hex 32)")
    try:
        codec = EncryptionCodec(load_keys())
        app = build_app(codec, token, origins)
    except (CodecError, ValueError) as err:
        sys.exit(f"error: {err}")
    log.info(
        "codec server on http://%s:%d: keys %s (active %s); CORS origins %s",
        host,
        port,
        ", ".join(codec.key_ids),
        codec.active_key_id,
        ", ".join(o.strip() for o in origins if o.strip()) or "none",
    )
    web.run_app(app, host=host, port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
