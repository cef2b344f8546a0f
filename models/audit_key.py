"""The audit trail's key: HMAC-SHA256 seals over each case's chain (models/audit_chain.py), held by
the worker alone (issue 16 item 2). The console and the CLI hold none: the entries they write
are sealed by the worker (its next step on the case, or the hourly `audit-heads` job).

    VCS_AUDIT_HMAC_KEY_FILE=/run/secrets/vcs_audit_hmac_key   # a file holding the key, or
    VCS_AUDIT_HMAC_KEY=<base64, at least 32 bytes>              # openssl rand -base64 32

With neither set, only a developer's machine (VCS_DEVELOPMENT=1) has a key: a fixed one, no
secret, so that bin/run-demo and the tests seal and verify. Errors never quote the key.
"""

import base64
import binascii
import os
from pathlib import Path

from models.codec import development
from models.errors import VcsError

AUDIT_KEY = "VCS_AUDIT_HMAC_KEY"
AUDIT_KEY_FILE = f"{AUDIT_KEY}_FILE"
MIN_KEY_BYTES = 32
DEVELOPMENT_AUDIT_KEY = b"vcs development audit key: no secret, never for production"


class AuditKeyError(VcsError):
    """The audit key is missing or unusable (the message never quotes it)."""


def audit_key() -> bytes | None:
    """The audit key this process holds, or None (the console and the CLI in production)."""
    value = os.environ.get(AUDIT_KEY, "").strip()
    file = os.environ.get(AUDIT_KEY_FILE, "").strip()
    if value and file:
        raise AuditKeyError(f"set {AUDIT_KEY} or {AUDIT_KEY_FILE}, not both")
    if file:
        try:
            value = Path(file).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as err:
            reason = err.strerror if isinstance(err, OSError) else "not base64 text"
            raise AuditKeyError(f"{AUDIT_KEY_FILE}: cannot read {file} ({reason})") from None
    if not value:
        return DEVELOPMENT_AUDIT_KEY if development() else None
    source = AUDIT_KEY_FILE if file else AUDIT_KEY
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise AuditKeyError(f"{source} is not base64 (openssl rand -base64 32)") from None
    if len(key) < MIN_KEY_BYTES:
        raise AuditKeyError(f"{source} is {len(key)} bytes: at least {MIN_KEY_BYTES} are needed")
    return key


def require_audit_key(purpose: str) -> bytes:
    """The key, for the worker and for verification; refused with what to set if none."""
    key = audit_key()
    if key is None:
        raise AuditKeyError(
            f"{purpose} needs the audit key, which only the worker holds: set "
            f"{AUDIT_KEY_FILE} (or {AUDIT_KEY}; openssl rand -base64 32), or VCS_DEVELOPMENT=1 "
            "on a developer's machine"
        )
    return key
