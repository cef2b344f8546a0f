"""Who is acting: an authenticated person (from the identity provider's token) or a named
service identity configured for the command line. Never free text typed by the user."""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    VLO = "vlo"
    SENIOR_VLO = "senior_vlo"
    VLO_MANAGER = "vlo_manager"
    ADMIN = "admin"  # the letters outbox only
    AUDITOR = "auditor"  # read-only, audit export and verify


@dataclass(frozen=True)
class Actor:
    id: str  # the identity provider's subject (or the service identity's name): no personal data
    roles: frozenset[Role]
    region: str

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise ValueError("an actor needs an id")

    def describe(self) -> str:
        """How the actor appears in the audit trail: id and roles, never a name."""
        return f"{self.id} ({', '.join(sorted(self.roles))})"


def roles_from(values: object) -> frozenset[Role]:
    """The roles a token claim holds (a list, or one space-separated string); names we do not
    know are ignored, so a token with none of ours has no role and may do nothing."""
    names = values.split() if isinstance(values, str) else values
    if not isinstance(names, list | tuple):
        return frozenset()
    known = {role.value: role for role in Role}
    return frozenset(known[n] for n in names if isinstance(n, str) and n in known)
