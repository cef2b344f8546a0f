"""GOV.UK Notify (or a service with the same API) for the letters a victim chose to receive by
email or text message.

    VCS_NOTIFY_BASE_URL           https://api.notifications.service.gov.uk; unset: nothing is sent
    VCS_NOTIFY_API_KEY            the key as Notify issues it: {key_name}-{service_id}-{secret_key}
    VCS_NOTIFY_EMAIL_TEMPLATE_ID  an email template whose text is ((body)) (it may use ((subject)))
    VCS_NOTIFY_SMS_TEMPLATE_ID    a text message template whose text is ((body))

Notify does not de-duplicate: the same request sent twice sends two messages. A sender keeps
exactly-once by giving every message a `reference` of its own (`reference_for`) and asking
Notify for it (`NotifyClient.find`) before sending again.

An address or a message leaves this module only inside a request to Notify. Errors name the
operation, the HTTP status and Notify's error class, never an address, a message or Notify's own
words (which may echo them): a known refusal is named in fixed words of our own (`FAULTS`).

What Notify's refusals mean (docs.notifications.service.gov.uk, "Error codes"; every error body
is {"status_code": N, "errors": [{"error": CLASS, "message": TEXT}]}):

- the recipient: 400 ValidationError whose message starts with the recipient field
  ("email_address Not a valid email address", "phone_number Not a UK mobile number", ...).
  The same request fails again: `rejected` (NotifyRejected, not retried); the letter is
  undelivered and a VLO reaches the victim another way.
- everything else that is 4xx (401/403 AuthError: a revoked key, a clock 30 s out; 400
  BadRequestError: template not found, missing personalisation, a team-only or trial-mode key,
  a service not allowed to send, a message too long; a ValidationError on any other field) is
  our configuration or our content, the same for every letter: `config_fault`
  (NotifyConfigFault), retried with a growing delay until ops mend it, never a VLO task.
"""

import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from temporalio import activity
from temporalio.exceptions import ApplicationError

from models.secret_files import secret

BASE_URL_VAR = "VCS_NOTIFY_BASE_URL"
API_KEY_VAR = "VCS_NOTIFY_API_KEY"
EMAIL_TEMPLATE_VAR = "VCS_NOTIFY_EMAIL_TEMPLATE_ID"
SMS_TEMPLATE_VAR = "VCS_NOTIFY_SMS_TEMPLATE_ID"

# Per request. A look-up and a send fit well inside the letter activity's 30 s, so an attempt
# that times out at Temporal has finished talking to Notify before the next attempt starts.
DEFAULT_TIMEOUT_SECONDS = 8.0
MAX_RETRY_AFTER = timedelta(minutes=5)
# A configuration fault is retried after 1, 2, 4 ... minutes, at most every 30 (local policy):
# letters go as soon as ops mend the setting, without hammering Notify meanwhile.
CONFIG_RETRY_FIRST = timedelta(minutes=1)
CONFIG_RETRY_MAX = timedelta(minutes=30)

# The recipient fields of Notify's send requests: a ValidationError on one of them is the
# victim's address or number, not our configuration.
RECIPIENT_FIELDS = ("email_address", "phone_number")

# Notify's refusals we can name, by a fragment of its message (case-insensitive), in words of
# our own: Notify's message itself is never repeated (it may echo what was sent).
FAULTS: tuple[tuple[str, str], ...] = (
    ("system clock", "the worker's clock is more than 30 s from Notify's"),
    ("api key not found", "the API key is revoked or unknown"),
    ("invalid token", "the API key or its token is not valid"),
    ("team-only api key", "a team-only API key cannot send to victims"),
    ("trial mode", "the Notify service is in trial mode"),
    ("template not found", "the template id is not a template of this service"),
    ("template_id", "the template id is not valid"),
    ("not suitable for", "the template is of the wrong type"),
    ("missing personalisation", "the template's placeholders are not ((body)) / ((subject))"),
    ("cannot be longer than", "the message is too long"),
    ("international", "the service may not send to international numbers"),
    ("not allowed to send", "the service is not allowed to send this kind of message"),
)

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# The key name may itself hold hyphens: the service id and the secret are the two UUIDs at the end.
_API_KEY = re.compile(rf"^(?:.*-)?({_UUID})-({_UUID})$")
_ERROR_CLASS = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,59}$")


def reference_for(idempotency_key: str) -> str:
    """The `reference` Notify holds for one letter: stable across retries and replays, opaque,
    and free of personal data (a hash of the letter's idempotency key)."""
    return "vcs-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


# ---- errors: retryable unless Notify said the request itself is wrong ------------------------


def unavailable(message: str, retry_after: timedelta | None = None) -> ApplicationError:
    """Notify is down, slow or busy (5xx, 429, timeouts): Temporal retries the activity."""
    return ApplicationError(message, type="NotifyUnavailable", next_retry_delay=retry_after)


def rejected(message: str) -> ApplicationError:
    """Notify refused the recipient (an invalid email address or phone number): the same
    request will fail again, and only a person can mend it."""
    return ApplicationError(message, type="NotifyRejected", non_retryable=True)


def config_fault(message: str) -> ApplicationError:
    """Notify refused our key, template, service settings or content: the same for every letter
    until ops mend it. Retryable, with a delay growing with the attempt (a local activity's
    first quick tries keep their own policy)."""
    delay = None
    if activity.in_activity() and not activity.info().is_local:
        attempt = max(activity.info().attempt, 1)
        delay = min(CONFIG_RETRY_FIRST * 2 ** min(attempt - 1, 10), CONFIG_RETRY_MAX)
    return ApplicationError(message, type="NotifyConfigFault", next_retry_delay=delay)


def config_error(message: str) -> ApplicationError:
    """Retryable: it mends when the worker restarts with the setting corrected."""
    return ApplicationError(message, type="NotifyConfigError")


# ---- configuration -------------------------------------------------------------------------


@dataclass(frozen=True)
class NotifyConfig:
    base_url: str
    service_id: str
    secret_key: str = field(repr=False)
    email_template_id: str = ""
    sms_template_id: str = ""
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    @classmethod
    def from_api_key(cls, base_url: str, api_key: str, **fields: Any) -> "NotifyConfig":
        match = _API_KEY.match(api_key.strip())
        if match is None:
            raise config_error(
                f"{API_KEY_VAR} is not set, or is not a Notify API key "
                "({key_name}-{service_id}-{secret_key})"
            )
        return cls(
            base_url=base_url.strip().rstrip("/"),
            service_id=match.group(1),
            secret_key=match.group(2),
            **fields,
        )


def config_from_env() -> NotifyConfig | None:
    """The Notify settings, or None when VCS_NOTIFY_BASE_URL is unset (nothing is sent)."""
    base_url = os.environ.get("VCS_NOTIFY_BASE_URL", "").strip()
    if not base_url:
        return None
    return NotifyConfig.from_api_key(
        base_url,
        secret("VCS_NOTIFY_API_KEY"),  # VCS_NOTIFY_API_KEY_FILE in production
        email_template_id=os.environ.get("VCS_NOTIFY_EMAIL_TEMPLATE_ID", "").strip(),
        sms_template_id=os.environ.get("VCS_NOTIFY_SMS_TEMPLATE_ID", "").strip(),
    )


# ---- the client ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """A notification Notify holds: its id, and when it was created."""

    notification_id: str
    at: datetime


def _parse_time(value: object) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def _first_error(response: httpx.Response) -> tuple[str, str]:
    """Notify's first error: (class, message), each "" when absent or malformed."""
    try:
        errors = response.json().get("errors")
        first = errors[0] if isinstance(errors, list) and errors else {}
        name, message = first.get("error"), first.get("message")
    except (ValueError, AttributeError, TypeError):
        return "", ""
    return (
        name if isinstance(name, str) and _ERROR_CLASS.match(name) else "",
        message if isinstance(message, str) else "",
    )


def _error_class(response: httpx.Response) -> str:
    """Notify's error class (`BadRequestError`, `AuthError`, ...): safe to log, unlike its
    message, which may repeat what was sent."""
    name, _ = _first_error(response)
    return f" {name}" if name else ""


def recipient_refused(response: httpx.Response) -> bool:
    """A 400 ValidationError on the recipient field: the address or number is not valid."""
    name, message = _first_error(response)
    field_name = message.split(" ", 1)[0]
    return (
        response.status_code == 400 and name == "ValidationError" and field_name in RECIPIENT_FIELDS
    )


def fault_words(response: httpx.Response) -> str:
    """What is wrong, in our own words, for the one-line message ops read."""
    _, message = _first_error(response)
    lowered = message.lower()
    found = next((words for fragment, words in FAULTS if fragment in lowered), None)
    if found:
        return found
    if response.status_code in (401, 403):
        return "Notify refused the API key (check VCS_NOTIFY_API_KEY and the worker's clock)"
    return "Notify refused the request (check the template ids and the service's settings)"


def _retry_after(response: httpx.Response) -> timedelta | None:
    value = response.headers.get("Retry-After", "")
    if not value.isdigit():
        return None
    return min(timedelta(seconds=int(value)), MAX_RETRY_AFTER)


class NotifyClient:
    def __init__(self, config: NotifyConfig, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.transport = transport

    def token(self) -> str:
        """A fresh JWT for each request: HS256, `iss` the service id, `iat` now (Notify refuses
        a token more than 30 seconds from its own clock)."""
        return jwt.encode(
            {"iss": self.config.service_id, "iat": int(time.time())},
            self.config.secret_key,
            algorithm="HS256",
            headers={"typ": "JWT"},
        )

    def _request(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        missing_ok: bool = False,
    ) -> dict[str, Any]:
        """Notify's JSON answer; {} for a 404 when `missing_ok`."""
        try:
            with httpx.Client(
                base_url=self.config.base_url,
                timeout=self.config.timeout,
                transport=self.transport,
            ) as http:
                response = http.request(
                    method,
                    path,
                    params=params,
                    json=body,
                    headers={"Authorization": f"Bearer {self.token()}", "User-Agent": "vcs"},
                )
        except httpx.TimeoutException:
            raise unavailable(
                f"Notify {operation}: no answer within {self.config.timeout:g} s"
            ) from None
        except httpx.HTTPError as err:  # refused, reset, bad TLS: the exception's text is dropped
            raise unavailable(f"Notify {operation}: {type(err).__name__}") from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise unavailable(
                f"Notify {operation}: HTTP {status}{_error_class(response)}",
                _retry_after(response),
            )
        if status == 404 and missing_ok:
            return {}
        if status >= 400 and recipient_refused(response):
            raise rejected(
                f"Notify {operation}: HTTP {status}{_error_class(response)}: "
                "the recipient's address or number is not valid"
            )
        if status >= 400:
            raise config_fault(
                f"Notify {operation}: HTTP {status}{_error_class(response)}: "
                f"{fault_words(response)}; letters wait until the Notify settings are mended"
            )
        if not 200 <= status < 300:
            raise unavailable(f"Notify {operation}: unexpected HTTP {status}")
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise unavailable(f"Notify {operation}: HTTP {status} without a JSON object")
        return data

    def find(self, reference: str) -> Sent | None:
        """The notification already sent with this reference, if any. Notify lists only what
        it still holds (7 days by default): far longer than any retry of one activity."""
        data = self._request(
            "GET", "/v2/notifications", "look-up by reference", params={"reference": reference}
        )
        notifications = data.get("notifications")
        if not isinstance(notifications, list):
            raise unavailable("Notify look-up by reference: answer has no notifications list")
        found = [
            n
            for n in notifications
            if isinstance(n, dict) and n.get("reference") == reference and n.get("id")
        ]
        if not found:
            return None
        oldest = found[-1]  # newest first; there should be only one
        return Sent(str(oldest["id"]), _parse_time(oldest.get("created_at")))

    def status(self, notification_id: str) -> str | None:
        """Notify's status of one message (created, sending, pending, sent, delivered,
        permanent-failure, temporary-failure, technical-failure), or None once Notify no longer
        holds it (404 after its retention period, 7 days by default)."""
        if not re.fullmatch(_UUID, notification_id):
            return None  # not an id Notify gave: nothing to ask it
        data = self._request(
            "GET", f"/v2/notifications/{notification_id}", "status", missing_ok=True
        )
        if not data:
            return None
        value = data.get("status")
        if not isinstance(value, str) or not _ERROR_CLASS.match(value.replace("-", "_")):
            raise unavailable("Notify status: answer has no status")
        return value

    def _send(self, kind: str, body: dict[str, Any]) -> Sent:
        data = self._request("POST", f"/v2/notifications/{kind}", f"send {kind}", body=body)
        notification_id = data.get("id")
        if not notification_id:
            # Perhaps sent: the retry's look-up by reference will find it.
            raise unavailable(f"Notify send {kind}: answer has no notification id")
        return Sent(str(notification_id), datetime.now(UTC))

    def send_email(self, email_address: str, subject: str, text: str, reference: str) -> Sent:
        if not self.config.email_template_id:
            raise config_error(f"{EMAIL_TEMPLATE_VAR} is not set")
        return self._send(
            "email",
            {
                "email_address": email_address,
                "template_id": self.config.email_template_id,
                "personalisation": {"subject": subject, "body": text},
                "reference": reference,
            },
        )

    def send_sms(self, phone_number: str, text: str, reference: str) -> Sent:
        if not self.config.sms_template_id:
            raise config_error(f"{SMS_TEMPLATE_VAR} is not set")
        return self._send(
            "sms",
            {
                "phone_number": phone_number,
                "template_id": self.config.sms_template_id,
                "personalisation": {"body": text},
                "reference": reference,
            },
        )
