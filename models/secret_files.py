"""Secrets from files: in production each secret is a compose `secrets:` file under
/run/secrets, named by NAME_FILE, so that it never sits in an environment variable (which
`docker inspect`, /proc and crash reports show). NAME itself still works, for development."""

import os
from collections.abc import Mapping
from pathlib import Path


class SecretFileError(ValueError):
    """NAME_FILE names a file that cannot be read. Says which setting and which path, never
    the contents."""


def secret(name: str, default: str = "", env: Mapping[str, str] | None = None) -> str:
    """The value of the secret `name`: the contents of the file NAME_FILE names (trailing
    newline removed) if set, else NAME, else `default`."""
    env = os.environ if env is None else env
    path = env.get(f"{name}_FILE", "").strip()
    if not path:
        return env.get(name, default)
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise SecretFileError(f"{name}_FILE={path}: cannot read it ({reason})") from None
