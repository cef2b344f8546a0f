"""The codec server: lets the Temporal Web UI and CLI show what the engine stored encrypted.

    export VCS_CODEC_OIDC_ISSUER=... VCS_CODEC_OIDC_AUDIENCE=... VCS_CODEC_OIDC_JWKS_URL=...
    export VCS_CODEC_TOKEN=...                  # optional: the CLI's break-glass token
    python codec_server.py                      # http://127.0.0.1:8081

Temporal's codec server protocol: POST /decode and POST /encode take and return
`{"payloads": [...]}`, the Payloads protobuf as JSON. The Web UI only ever calls /decode; the
`temporal` CLI calls /encode only to send an input it was given. Every request needs
`Authorization: Bearer <token>`, one of:

- an OIDC access token: the Web UI, signed in with TEMPORAL_AUTH_ENABLED and given
  TEMPORAL_CODEC_PASS_ACCESS_TOKEN=true, sends its user's. It is accepted when its signature
  verifies against the issuer's keys (VCS_CODEC_OIDC_JWKS_URL, fetched and cached; RS256 or
  ES256 only), its `iss` is VCS_CODEC_OIDC_ISSUER, its `aud` holds VCS_CODEC_OIDC_AUDIENCE, it
  has not expired, it names its `sub`, and its role claim (VCS_CODEC_OIDC_ROLE_CLAIM, default
  `roles`: a list, or a space-separated string; a dotted name such as `realm_access.roles`
  reaches into an object) holds VCS_CODEC_OIDC_REQUIRED_ROLE (default `vcs-codec-decode`) to
  decode, or VCS_CODEC_OIDC_ENCODE_ROLE (default `vcs-codec-encode`) to encode: the decode role
  does not let anyone seal payloads of their choice under the engine's keys;
- the break-glass token VCS_CODEC_TOKEN (or the file VCS_CODEC_TOKEN_FILE names), for the
  `temporal` CLI, accepted only when set, and for /decode only.

At least one of the two must be configured, or the server will not start. 401 without a
token or with one that is not valid, 403 with a valid token lacking the role, 503 when the
issuer's keys cannot be fetched. Browsers may call it from the origins in
VCS_CODEC_CORS_ORIGINS (comma-separated; default the dev server's Web UI,
http://localhost:8233). Keys come from VCS_CODEC_KEYS / VCS_CODEC_ACTIVE_KEY as for the worker
(models/codec.py). VCS_CODEC_HOST (default 127.0.0.1) and VCS_CODEC_PORT (default 8081) say
where it listens; it speaks plain HTTP, so put TLS in front of it beyond this machine (the Web UI
sends tokens only to an https:// endpoint).

Each request is logged with the method, path, status, payload count, namespace, who asked
(the token's `sub`, or the break-glass token) and which workflow: never payload content, never
a token. The Web UI's request names the namespace (X-Namespace) but not the workflow; the
browser's Referer does (the UI's page, /namespaces/<ns>/workflows/<workflow id>/...) when the
UI and the codec server share an origin, as behind the stack's ops-gateway (docker-compose.yml).
Without one the log says workflow='?'. GET /healthz answers 200 without a token, for the
compose healthcheck, and says nothing else.
"""

import asyncio
import hmac
import logging
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import jwt
from aiohttp import hdrs, web
from google.protobuf import json_format
from jwt.exceptions import (
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidKeyError,
    InvalidSignatureError,
    MissingRequiredClaimError,
    PyJWKClientConnectionError,
    PyJWKClientError,
    PyJWKSetError,
    PyJWTError,
)
from temporalio.api.common.v1 import Payload, Payloads

from models.codec import CodecError, EncryptionCodec, load_keys
from models.secret_files import secret

DEFAULT_CORS_ORIGINS = "http://localhost:8233"
DEFAULT_PORT = 8081
MIN_TOKEN_LENGTH = 16
MAX_BODY = 16 * 1024 * 1024  # a page of history: Temporal's own limit is 2 MiB a payload
ALLOWED_HEADERS = "authorization, content-type, x-namespace"

DEFAULT_ROLE_CLAIM = "roles"
DEFAULT_REQUIRED_ROLE = "vcs-codec-decode"
DEFAULT_ENCODE_ROLE = "vcs-codec-encode"
UNKNOWN_WORKFLOW = "?"
HEALTH_PATH = "/healthz"
# The Web UI's page for a workflow, as its URL path names it.
WORKFLOW_PAGE = re.compile(r"/namespaces/[^/]+/workflows/([^/?#]+)")
# Asymmetric only: a symmetric algorithm would let anyone holding the published key sign.
ALGORITHMS = ("RS256", "ES256")
REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]
JWKS_CACHE_SECONDS = 300  # a key the issuer stops publishing is distrusted within this
JWKS_TIMEOUT_SECONDS = 10
CLOCK_SKEW_SECONDS = 30
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
NOTHING_CONFIGURED = (
    "set VCS_CODEC_OIDC_ISSUER, VCS_CODEC_OIDC_AUDIENCE and VCS_CODEC_OIDC_JWKS_URL (Web UI "
    "sign-in), or VCS_CODEC_TOKEN (break-glass, for the CLI: openssl rand -hex 32), or both"
)

log = logging.getLogger("vcs.codec_server")
PAYLOAD_COUNT = web.RequestKey("payload_count", int)
CALLER = web.RequestKey("caller", str)  # who asked, for the log: never a token
BREAK_GLASS = web.RequestKey("break_glass", bool)

Transform = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class TokenRefused(Exception):
    """The token is not valid (401). The message is a fixed phrase, safe to log: never the
    token, never anything the token says before it has been verified."""


class IssuerUnavailable(Exception):
    """The issuer's keys cannot be fetched, so no token can be checked now (503)."""


@dataclass(frozen=True)
class OidcSettings:
    """Which access tokens the codec server accepts: the Web UI's sign-in."""

    issuer: str
    audience: str
    jwks_url: str
    role_claim: str = DEFAULT_ROLE_CLAIM
    required_role: str = DEFAULT_REQUIRED_ROLE
    encode_role: str = DEFAULT_ENCODE_ROLE

    def __post_init__(self) -> None:
        for name, value in (
            ("VCS_CODEC_OIDC_ISSUER", self.issuer),
            ("VCS_CODEC_OIDC_AUDIENCE", self.audience),
            ("VCS_CODEC_OIDC_JWKS_URL", self.jwks_url),
            ("VCS_CODEC_OIDC_ROLE_CLAIM", self.role_claim),
            ("VCS_CODEC_OIDC_REQUIRED_ROLE", self.required_role),
            ("VCS_CODEC_OIDC_ENCODE_ROLE", self.encode_role),
        ):
            if not value.strip():
                raise ValueError(f"{name} is empty")
        url = urlsplit(self.jwks_url)
        loopback = url.scheme == "http" and url.hostname in LOOPBACK_HOSTS
        if not (url.scheme == "https" and url.hostname) and not loopback:
            # Keys fetched in the clear could be swapped on the way, and tokens forged.
            raise ValueError(
                "VCS_CODEC_OIDC_JWKS_URL must be an https:// URL (http:// only on this machine)"
            )


class OidcVerifier:
    """Checks access tokens against the issuer's published keys (PyJWKClient: the key set is
    cached for JWKS_CACHE_SECONDS; an unknown key id fetches it again, at most every 30 s)."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(
            settings.jwks_url,
            cache_jwk_set=True,
            lifespan=JWKS_CACHE_SECONDS,
            timeout=JWKS_TIMEOUT_SECONDS,
        )

    def signing_key_ids(self) -> list[str]:
        """The key ids the issuer publishes now (blocking: may fetch them)."""
        try:
            return [str(key.key_id) for key in self._jwks.get_signing_keys()]
        except (PyJWKClientError, PyJWKSetError) as err:
            raise IssuerUnavailable(str(err)) from None

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token, or TokenRefused (blocking: may fetch the keys)."""
        try:
            header = jwt.get_unverified_header(token)
        except PyJWTError:
            raise TokenRefused("not a JWT") from None
        if header.get("alg") not in ALGORITHMS:  # "none", HS256 and the rest
            raise TokenRefused("algorithm not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRefused("no key id")
        self.signing_key_ids()  # the issuer's own failures: not the token's fault
        try:
            key = self._jwks.get_signing_key(kid)
        except PyJWKClientConnectionError as err:
            raise IssuerUnavailable(str(err)) from None
        except (PyJWKClientError, PyJWKSetError):
            raise TokenRefused("signed with a key the issuer does not publish") from None
        if key.algorithm_name not in ALGORITHMS:
            raise TokenRefused("algorithm not accepted")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": REQUIRED_CLAIMS, "enforce_minimum_key_length": True},
            )
        except PyJWTError as err:
            raise TokenRefused(refusal_reason(err)) from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.strip():
            raise TokenRefused("no sub claim")
        return claims

    def roles(self, claims: Mapping[str, Any]) -> set[str]:
        """The roles a token's claims hold: a list of strings, or one space-separated string.
        A claim name is looked up as it is first (`https://vcs.example/roles`), else as a
        dotted path into objects (`realm_access.roles`)."""
        name = self.settings.role_claim
        value: Any = claims.get(name)
        if value is None and "." in name:
            value = claims
            for part in name.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, str):
            return set(value.split())
        if isinstance(value, list):
            return {role for role in value if isinstance(role, str)}
        return set()


def refusal_reason(err: PyJWTError) -> str:
    """A fixed phrase for why a token was refused (subclasses before their parents)."""
    reasons: list[tuple[type[PyJWTError], str]] = [
        (ExpiredSignatureError, "expired"),
        (ImmatureSignatureError, "not yet valid"),
        (InvalidAudienceError, "wrong audience"),
        (InvalidIssuerError, "wrong issuer"),
        (InvalidSignatureError, "bad signature"),
        (InvalidAlgorithmError, "algorithm not accepted"),
        (InvalidKeyError, "signing key not accepted"),
    ]
    if isinstance(err, MissingRequiredClaimError):
        return f"no {err.claim} claim" if err.claim in REQUIRED_CLAIMS else "a claim is missing"
    return next((reason for kind, reason in reasons if isinstance(err, kind)), "invalid token")


def refuse(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


def build_app(
    codec: EncryptionCodec,
    cors_origins: Sequence[str],
    *,
    token: str | None = None,
    oidc: OidcSettings | None = None,
) -> web.Application:
    """The codec server, accepting the Web UI's access tokens (`oidc`), the break-glass
    `token`, or both; at least one."""
    if not token and oidc is None:
        raise ValueError(NOTHING_CONFIGURED)
    if token and len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(f"the codec server token must be at least {MIN_TOKEN_LENGTH} characters")
    expected = token.encode() if token else None
    verifier = OidcVerifier(oidc) if oidc is not None else None
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

    def invalid_token(request: web.Request, reason: str) -> web.Response:
        request[CALLER] = f"refused={reason!r}"
        return refuse(
            401, "token refused", **{hdrs.WWW_AUTHENTICATE: 'Bearer error="invalid_token"'}
        )

    async def unauthorised(request: web.Request, encode: bool) -> web.Response | None:
        """None if the caller may decode (or with `encode`, encode); else the refusal.
        Records who asked."""
        scheme, _, supplied = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
        supplied = supplied.strip()
        if scheme.lower() != "bearer" or not supplied:
            request[CALLER] = "refused='no token'"
            return refuse(401, "a bearer token is required", **{hdrs.WWW_AUTHENTICATE: "Bearer"})
        if expected is not None and hmac.compare_digest(supplied.encode(), expected):
            request[CALLER] = "token=break-glass"
            request[BREAK_GLASS] = True
            if encode:  # it names nobody: it may show, never seal
                request[CALLER] += " refused='break-glass token may not encode'"
                return refuse(403, "the break-glass token may only decode")
            return None
        if verifier is None:
            return invalid_token(request, "not the break-glass token")
        try:
            # PyJWKClient fetches with urllib: off the event loop.
            claims = await asyncio.to_thread(verifier.verify, supplied)
        except TokenRefused as refused:
            return invalid_token(request, str(refused))
        except IssuerUnavailable as err:
            log.warning("cannot fetch the token issuer's keys: %s", err)
            request[CALLER] = "refused='issuer keys unavailable'"
            return refuse(503, "cannot check tokens now: try again later")
        request[CALLER] = f"sub={str(claims['sub'])[:200]!r}"
        settings = verifier.settings
        role = settings.encode_role if encode else settings.required_role
        if role not in verifier.roles(claims):
            request[CALLER] += f" refused='no role {role[:64]}'"
            return refuse(403, f"the role {role!r} is required")
        return None

    def endpoint(transform: Transform, encode: bool = False) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            refusal = await unauthorised(request, encode)  # before the body is read
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

    async def healthz(_: web.Request) -> web.Response:
        """Up, with its keys loaded (it would not have started without them)."""
        return web.json_response({"status": "ok"})

    async def check_issuer(app: web.Application) -> None:
        """Say at start-up whether the issuer's keys can be fetched: a wrong URL shows at once."""
        assert verifier is not None
        try:
            kids = await asyncio.to_thread(verifier.signing_key_ids)
        except IssuerUnavailable as err:
            log.warning(
                "cannot fetch the token issuer's keys yet (%s): Web UI requests get 503 until "
                "they can be fetched",
                err,
            )
        else:
            log.info("token issuer's signing keys: %s", ", ".join(k[:64] for k in kids))

    app = web.Application(middlewares=[cors_and_log], client_max_size=MAX_BODY)
    app.add_routes(
        [
            web.post("/decode", endpoint(codec.decode)),
            web.post("/encode", endpoint(codec.encode, encode=True)),
            web.get(HEALTH_PATH, healthz),
            web.options("/decode", preflight),
            web.options("/encode", preflight),
        ]
    )
    if verifier is not None:
        app.on_startup.append(check_issuer)
    return app


def log_request(request: web.Request, status: int, started: float) -> None:
    if request.path == HEALTH_PATH and status == 200:
        return  # the healthcheck, every few seconds: nobody decoded anything
    count = request.get(PAYLOAD_COUNT)
    caller = request.get(CALLER)
    # Every use of the break-glass token stands out: it does not say who used it.
    level = logging.WARNING if request.get(BREAK_GLASS) else logging.INFO
    log.log(
        level,
        "%s %s -> %d%s namespace=%r%s workflow=%r from %s in %.0f ms",
        request.method,
        request.path,
        status,
        f" ({count} payloads)" if count is not None else "",
        request.headers.get("X-Namespace", "")[:100],
        f" {caller}" if caller else "",
        workflow_of(request),
        request.remote,
        (time.monotonic() - started) * 1000,
    )


def workflow_of(request: web.Request) -> str:
    """The workflow whose page asked, from the Referer the browser sends, else '?'. A
    workflow ID here is a case or victim reference, never a name (README: Victim data in
    Temporal)."""
    match = WORKFLOW_PAGE.search(urlsplit(request.headers.get(hdrs.REFERER, "")).path)
    return unquote(match.group(1))[:200] if match else UNKNOWN_WORKFLOW


def settings_from_env() -> tuple[str | None, OidcSettings | None]:
    """The break-glass token and the OIDC settings, either of them None if not configured."""
    token = secret("VCS_CODEC_TOKEN").strip() or None  # VCS_CODEC_TOKEN_FILE in production
    oidc_required = {
        "VCS_CODEC_OIDC_ISSUER": os.environ.get("VCS_CODEC_OIDC_ISSUER", "").strip(),
        "VCS_CODEC_OIDC_AUDIENCE": os.environ.get("VCS_CODEC_OIDC_AUDIENCE", "").strip(),
        "VCS_CODEC_OIDC_JWKS_URL": os.environ.get("VCS_CODEC_OIDC_JWKS_URL", "").strip(),
    }
    role_claim = os.environ.get("VCS_CODEC_OIDC_ROLE_CLAIM", "").strip() or DEFAULT_ROLE_CLAIM
    required_role = (
        os.environ.get("VCS_CODEC_OIDC_REQUIRED_ROLE", "").strip() or DEFAULT_REQUIRED_ROLE
    )
    encode_role = os.environ.get("VCS_CODEC_OIDC_ENCODE_ROLE", "").strip() or DEFAULT_ENCODE_ROLE
    missing = [name for name, value in oidc_required.items() if not value]
    if missing and len(missing) < len(oidc_required):
        raise ValueError(
            f"set {' and '.join(missing)} too, for the Web UI's sign-in (or none of "
            "VCS_CODEC_OIDC_ISSUER, VCS_CODEC_OIDC_AUDIENCE, VCS_CODEC_OIDC_JWKS_URL)"
        )
    oidc = None
    if not missing:
        oidc = OidcSettings(
            issuer=oidc_required["VCS_CODEC_OIDC_ISSUER"],
            audience=oidc_required["VCS_CODEC_OIDC_AUDIENCE"],
            jwks_url=oidc_required["VCS_CODEC_OIDC_JWKS_URL"],
            role_claim=role_claim,
            required_role=required_role,
            encode_role=encode_role,
        )
    if token is None and oidc is None:
        raise ValueError(NOTHING_CONFIGURED)
    return token, oidc


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    origins = os.environ.get("VCS_CODEC_CORS_ORIGINS", DEFAULT_CORS_ORIGINS).split(",")
    host = os.environ.get("VCS_CODEC_HOST", "127.0.0.1")
    port = int(os.environ.get("VCS_CODEC_PORT", str(DEFAULT_PORT)))
    try:
        token, oidc = settings_from_env()
        codec = EncryptionCodec(load_keys())
        app = build_app(codec, origins, token=token, oidc=oidc)
    except (CodecError, ValueError) as err:
        sys.exit(f"error: {err}")
    access = []
    if oidc is not None:
        access.append(
            f"Web UI tokens from {oidc.issuer} for audience {oidc.audience} with role "
            f"{oidc.required_role!r} (encode: {oidc.encode_role!r}) in claim {oidc.role_claim!r}"
        )
    if token:
        access.append("the break-glass token")
    log.info(
        "codec server on http://%s:%d: keys %s (active %s); CORS origins %s; accepts %s",
        host,
        port,
        ", ".join(codec.key_ids),
        codec.active_key_id,
        ", ".join(o.strip() for o in origins if o.strip()) or "none",
        " and ".join(access),
    )
    web.run_app(app, host=host, port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
