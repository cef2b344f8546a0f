"""The VLO console: `python console.py` serves it on 127.0.0.1:8000 (VCS_CONSOLE_PORT).

Production needs VCS_OIDC_ISSUER, VCS_OIDC_CLIENT_ID/SECRET and VCS_CONSOLE_SESSION_KEY and
refuses to start without them; VCS_CONSOLE_MODE=development (bin/run-demo) signs in through the
local OpenID provider with the demo users."""

import asyncio
import os
import sys

import uvicorn
from sqlalchemy import Engine

from models.codec import CodecError
from models.db import make_engine
from models.secret_files import SecretFileError
from models.startup import ready_or_exit
from service.vcs import Vcs
from web.app import create_app
from web.settings import ConfigurationError, ConsoleSettings
from worker import connect


def main() -> int:
    try:
        settings = ConsoleSettings.from_env()
    except (ConfigurationError, SecretFileError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    engine = make_engine()
    ready_or_exit(engine)
    try:
        asyncio.run(serve(settings, engine))
    except CodecError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:  # the Temporal client could not connect
        print(f"error: cannot reach Temporal: {err}", file=sys.stderr)
        return 3
    return 0


async def serve(settings: ConsoleSettings, engine: Engine) -> None:
    """Connect to Temporal (the forms act through it) and serve, on the one event loop."""
    app = create_app(settings, engine, vcs=Vcs(await connect(service="vcs-console"), engine))
    host = os.environ.get("VCS_CONSOLE_HOST", "127.0.0.1")
    port = int(os.environ.get("VCS_CONSOLE_PORT", "8000"))
    await uvicorn.Server(uvicorn.Config(app, host=host, port=port)).serve()


if __name__ == "__main__":
    sys.exit(main())
