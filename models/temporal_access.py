"""How a process proves to the Temporal server who it is.

In production the server checks every call (docker-compose.yml: a JWT authorizer and claim
mapper against the identity provider, on a TLS frontend that also asks for a client
certificate). A client presents:

- a JWT from the identity provider, sent as `Authorization: Bearer ...` on every call: from
  the file TEMPORAL_API_KEY_FILE names (a compose secret, which the operator's token agent
  rewrites before it expires; it is re-read every API_KEY_REFRESH_SECONDS), or TEMPORAL_API_KEY;
- TLS settings and a client certificate: TEMPORAL_TLS_SERVER_CA_CERT_PATH,
  TEMPORAL_TLS_SERVER_NAME, TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, read
  by temporalio.envconfig itself.

All optional: with none of them set (the embedded dev server, bin/run-demo, the tests) the
client connects without credentials, as before.
"""

import asyncio
import logging
import os
from typing import Any

from temporalio.client import Client

from models.secret_files import SecretFileError, secret

API_KEY = "TEMPORAL_API_KEY"
API_KEY_REFRESH_SECONDS = 60.0

log = logging.getLogger("vcs.temporal_access")


def add_credentials(config: dict[str, Any]) -> dict[str, Any]:
    """The envconfig connect settings, with the API key from its secret file if one is set.
    A key file that is set but empty is refused: the server would refuse every call."""
    key = secret(API_KEY).strip()
    if key:
        config["api_key"] = key
    elif os.environ.get(f"{API_KEY}_FILE", "").strip():
        raise SecretFileError(f"{API_KEY}_FILE names an empty file")
    return config


async def keep_api_key_fresh(client: Client, interval: float = API_KEY_REFRESH_SECONDS) -> None:
    """Re-read the API key file every `interval` seconds and give the client a changed key
    (tokens expire; the token agent writes the next one). Runs until cancelled; a file that
    cannot be read keeps the key the client has, with a warning."""
    while True:
        await asyncio.sleep(interval)
        try:
            key = secret(API_KEY).strip()
        except SecretFileError as err:
            log.warning("keeping the current Temporal API key: %s", err)
            continue
        if key and key != client.api_key:
            client.api_key = key
            log.info("Temporal API key renewed from %s_FILE", API_KEY)
