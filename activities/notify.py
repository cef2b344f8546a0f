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
words (which may echo them).
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
from temporalio.exceptions import ApplicationError

BASE_URL_VAR = "VCS_NOTIFY_BASE_URL"
API_KEY_VAR = "VCS_NOTIFY_API_KEY"
EMAIL_TEMPLATE_VAR = "VCS_NOTIFY_EMAIL_TEMPLATE_ID"
SMS_TEMPLATE_VAR = "VCS_NOTIFY_SMS_TEMPLATE_ID"

# Per request. A look-up and a send fit well inside the letter activity's 30 s, so an attempt
# that times out at Temporal has finished talking to Notify before the next attempt starts.
DEFAULT_TIMEOUT_SECONDS = 8.0
MAX_RETRY_AFTER = timedelta(minutes=5)

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
    """Notify refused the request (4xx other than 429): the same request will fail again."""
    return ApplicationError(message, type="NotifyRejected", non_retryable=True)


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
        os.environ.get("VCS_NOTIFY_API_KEY", ""),
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


def _error_class(response: httpx.Response) -> str:
    """Notify's error class (`BadRequestError`, `AuthError`, ...): safe to log, unlike its
    message, which may repeat what was sent."""
    try:
        errors = response.json().get("errors")
        name = errors[0].get("error") if isinstance(errors, list) and errors else None
    except (ValueError, AttributeError, TypeError):
        return ""
    return f" {name}" if isinstance(name, str) and _ERROR_CLASS.match(name) else ""


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
    ) -> dict[str, Any]:
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
        if status >= 400:
            raise rejected(f"Notify {operation}: HTTP {status}{_error_class(response)}")
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
