"""Who the command line acts as: a named service identity with its roles and region,
configured explicitly in the environment (never whoever typed a name on the command line)."""

import os
from collections.abc import Mapping

from models.errors import VcsError
from service.actor import Actor, Role, roles_from

IDENTITY, ROLES, REGION = "VCS_CLI_IDENTITY", "VCS_CLI_ROLES", "VCS_CLI_REGION"
HOW = (
    f"set {IDENTITY} (e.g. ops.script), {ROLES} (comma-separated: "
    f"{', '.join(r.value for r in Role)}) and {REGION} (see README)"
)


def cli_actor(env: Mapping[str, str] = os.environ) -> Actor:
    """The configured identity; a missing or unknown setting is refused in one line."""
    name, roles_text, region = (env.get(k, "").strip() for k in (IDENTITY, ROLES, REGION))
    if not name or not roles_text or not region:
        raise VcsError(f"the command line has no identity configured: {HOW}")
    names = [r.strip() for r in roles_text.replace(",", " ").split()]
    roles = roles_from(names)
    unknown = sorted(set(names) - {r.value for r in roles})
    if unknown:
        raise VcsError(f"{ROLES}: unknown role(s) {', '.join(unknown)}: {HOW}")
    return Actor(id=name, roles=roles, region=region)
