"""A fake GOV.UK Notify for tests, on 127.0.0.1 (a free port), in the test's event loop.

It checks every request's JWT as Notify does, records every notification it is sent, and finds
them by reference. What it records is counted at the receiving end: a test that asks "was this
letter sent exactly once?" asks this server, never a counter inside the code under test. A
worker running in a process of its own reaches it through `env()`.
"""

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
from aiohttp import web

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"vcs-test-key-{SERVICE_ID}-{SECRET}"
EMAIL_TEMPLATE = "0b9c5b5e-3a1f-4f58-9d0c-5a8f2f8e4a11"
SMS_TEMPLATE = "7f3d2c1b-6a5e-4d4c-8b3a-2f1e0d9c8b7a"
SMS_CHAR_COUNT_LIMIT = 918  # Notify refuses a longer text message (400 BadRequestError)


@dataclass
class FakeNotify:
    url: str = ""
    notifications: list[dict[str, Any]] = field(default_factory=list)
    posts: int = 0
    lookups: int = 0
    lookups_found: int = 0  # look-ups by reference that found a message already sent
    auth_failures: int = 0
    lose_next_post: bool = False  # record the notification, then answer 500
    answer_posts_with: int | None = None  # refuse every POST with this status
    # refuse every POST with this (status, error class, message), as Notify words it
    refuse_posts_with: tuple[int, str, str] | None = None
    status_lookups: int = 0  # GET /v2/notifications/{id}
    delay: float = 0.0  # before a POST is recorded
    respond_delay: float = 0.0  # after a POST is recorded, before it is answered
    on_record: Callable[[], None] | None = None  # called (on the server's loop) on each record

    def set_status(self, notification_id: str, status: str) -> None:
        """What Notify later learns from the provider: delivered, permanent-failure, ..."""
        [found] = [n for n in self.notifications if n["id"] == notification_id]
        found["status"] = status

    def forget(self, notification_id: str) -> None:
        """Notify's retention period has passed: it no longer holds the message."""
        self.notifications = [n for n in self.notifications if n["id"] != notification_id]

    def sent_with(self, reference: str) -> list[dict[str, Any]]:
        return [n for n in self.notifications if n["reference"] == reference]

    def env(self) -> dict[str, str]:
        """The settings a worker needs to send here."""
        return {
            "VCS_NOTIFY_BASE_URL": self.url,
            "VCS_NOTIFY_API_KEY": API_KEY,
            "VCS_NOTIFY_EMAIL_TEMPLATE_ID": EMAIL_TEMPLATE,
            "VCS_NOTIFY_SMS_TEMPLATE_ID": SMS_TEMPLATE,
        }

    def _authorised(self, request: web.Request) -> bool:
        """Notify's rules: Bearer JWT, HS256, signed with the key's secret, `iss` the service
        id, `iat` within 30 seconds."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            assert scheme == "Bearer"
            assert jwt.get_unverified_header(token).get("alg") == "HS256"
            claims = jwt.decode(
                token, SECRET, algorithms=["HS256"], options={"require": ["iss", "iat"]}
            )
            assert claims["iss"] == SERVICE_ID
            assert abs(time.time() - int(claims["iat"])) <= 30
        except (AssertionError, jwt.InvalidTokenError, ValueError):
            self.auth_failures += 1
            return False
        return True

    @staticmethod
    def _error(status: int, error: str, message: str = "refused") -> web.Response:
        return web.json_response(
            {"status_code": status, "errors": [{"error": error, "message": message}]},
            status=status,
        )

    def _refusal(self, kind: str, body: dict[str, Any]) -> web.Response | None:
        """Notify's own checks of a send request, with its error bodies (docs 'Error codes')."""
        recipient_field = {"email": "email_address", "sms": "phone_number"}[kind]
        template = {"email": EMAIL_TEMPLATE, "sms": SMS_TEMPLATE}[kind]
        recipient = str(body.get(recipient_field) or "")
        if not recipient:
            return self._error(400, "ValidationError", f"{recipient_field} is a required property")
        if body.get("template_id") != template:
            return self._error(400, "BadRequestError", "Template not found")
        if kind == "email" and "@" not in recipient:
            return self._error(400, "ValidationError", "email_address Not a valid email address")
        if kind == "sms" and not recipient.replace(" ", "").lstrip("+").isdigit():
            return self._error(
                400, "ValidationError", "phone_number Must not contain letters or symbols"
            )
        text = body.get("personalisation", {}).get("body")
        if not text:
            return self._error(400, "BadRequestError", "Missing personalisation: body")
        if kind == "sms" and len(text) > SMS_CHAR_COUNT_LIMIT:
            return self._error(
                400,
                "BadRequestError",
                "Your message is too long. Text messages cannot be longer than "
                f"{SMS_CHAR_COUNT_LIMIT} characters. Your message is {len(text)} characters long.",
            )
        return None

    async def post(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(403, "AuthError")
        self.posts += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.answer_posts_with is not None:
            return self._error(self.answer_posts_with, "BadRequestError")
        if self.refuse_posts_with is not None:
            return self._error(*self.refuse_posts_with)
        kind = request.match_info["kind"]
        body = await request.json()
        recipient_field = {"email": "email_address", "sms": "phone_number"}[kind]
        template = {"email": EMAIL_TEMPLATE, "sms": SMS_TEMPLATE}[kind]
        refusal = self._refusal(kind, body)
        if refusal is not None:
            return refusal
        notification = {
            "id": str(uuid.uuid4()),
            "reference": body.get("reference"),
            "type": kind,
            "recipient": body[recipient_field],
            "personalisation": body["personalisation"],
            "status": "created",
            "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        self.notifications.append(notification)
        if self.on_record is not None:
            self.on_record()
        if self.respond_delay:
            await asyncio.sleep(self.respond_delay)
        if self.lose_next_post:
            self.lose_next_post = False
            return self._error(500, "Exception")
        return web.json_response(
            {
                "id": notification["id"],
                "reference": notification["reference"],
                "content": notification["personalisation"],
                "template": {"id": template, "version": 1},
            },
            status=201,
        )

    async def list(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(403, "AuthError")
        self.lookups += 1
        reference = request.query.get("reference")
        found = [
            {"id": n["id"], "reference": n["reference"], "type": n["type"]}
            | {"status": n["status"], "created_at": n["created_at"]}
            for n in reversed(self.notifications)  # newest first, as Notify lists them
            if reference is None or n["reference"] == reference
        ]
        if reference is not None and found:
            self.lookups_found += 1
        return web.json_response({"notifications": found, "links": {"current": request.path}})

    async def one(self, request: web.Request) -> web.Response:
        """GET /v2/notifications/{id}: the message and its status, or 404 once forgotten."""
        if not self._authorised(request):
            return self._error(403, "AuthError")
        self.status_lookups += 1
        found = [n for n in self.notifications if n["id"] == request.match_info["id"]]
        if not found:
            return self._error(404, "NoResultFound", "No result found")
        n = found[0]
        return web.json_response(
            {"id": n["id"], "reference": n["reference"], "type": n["type"]}
            | {"status": n["status"], "created_at": n["created_at"]}
        )


@asynccontextmanager
async def serving() -> AsyncIterator[FakeNotify]:
    """A fake Notify listening on 127.0.0.1 until the block ends."""
    fake = FakeNotify()
    app = web.Application()
    app.router.add_post("/v2/notifications/{kind:email|sms}", fake.post)
    app.router.add_get("/v2/notifications", fake.list)
    app.router.add_get("/v2/notifications/{id}", fake.one)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        fake.url = f"http://127.0.0.1:{port}"
        yield fake
    finally:
        await runner.cleanup()


@contextmanager
def serving_in_thread() -> Iterator[FakeNotify]:
    """The same, on an event loop of its own in a background thread. It keeps answering while
    the test's loop is blocked, for example by a synchronous SQLite call waiting for the write
    lock that a worker holds while it talks to Notify. Its counters are read from the test's
    thread: copy `notifications` (list(...)) before iterating."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-notify", daemon=True)
    thread.start()
    try:
        server = serving()
        fake = asyncio.run_coroutine_threadsafe(server.__aenter__(), loop).result(timeout=30)
        try:
            yield fake
        finally:
            asyncio.run_coroutine_threadsafe(server.__aexit__(None, None, None), loop).result(
                timeout=30
            )
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
