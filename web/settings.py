"""The console's configuration, from the environment. Production refuses to start without an
identity provider (no silent fallback); the embedded default is the local OpenID provider that
bin/run-demo starts (oidc-provider-mock), with a demo user for each role."""

import os
from dataclasses import dataclass
from pathlib import Path

from models.secret_files import secret

DEVELOPMENT_ISSUER = "http://127.0.0.1:9400"
ASSETS = (
    Path(__file__).resolve().parent.parent / "node_modules" / "govuk-frontend" / "dist" / "govuk"
)


class ConfigurationError(Exception):
    pass


@dataclass(frozen=True)
class ConsoleSettings:
    issuer: str
    client_id: str
    client_secret: str
    session_key: str  # signs the session cookie
    roles_claim: str = "roles"
    region_claim: str = "region"
    idle_minutes: float = 30
    production: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "ConsoleSettings":
        env = dict(os.environ) if env is None else env
        mode = env.get("VCS_CONSOLE_MODE", "production")
        if mode not in ("production", "development"):
            raise ConfigurationError(f"VCS_CONSOLE_MODE={mode!r}: production or development")
        production = mode == "production"
        issuer = env.get("VCS_OIDC_ISSUER", "" if production else DEVELOPMENT_ISSUER)
        if not issuer:
            raise ConfigurationError(
                "production mode needs VCS_OIDC_ISSUER (the identity provider)"
            )
        key = secret("VCS_CONSOLE_SESSION_KEY", "", env)  # secrets: *_FILE in production
        if production and len(key) < 32:
            raise ConfigurationError("production mode needs VCS_CONSOLE_SESSION_KEY (32+ chars)")
        return cls(
            issuer=issuer.rstrip("/"),
            client_id=env.get("VCS_OIDC_CLIENT_ID", "vcs-console"),
            client_secret=secret("VCS_OIDC_CLIENT_SECRET", "" if production else "dev-secret", env),
            # Development only (VCS_CONSOLE_MODE=development, set by bin/run-demo and the tests).
            session_key=key or "development-session-key-not-for-production",
            roles_claim=env.get("VCS_OIDC_ROLES_CLAIM", "roles"),
            region_claim=env.get("VCS_OIDC_REGION_CLAIM", "region"),
            idle_minutes=float(env.get("VCS_CONSOLE_IDLE_MINUTES", "30")),
            production=production,
        )
