"""A case's audit trail for the console's auditor: its entries with the hash chain checked, and
the export the CLI writes (cli/audit.py), as one text. The chain's seals need the audit key,
which only the worker holds (models/audit_key.py): the console checks the hash chain, and
operations check the seals with `vcs audit-verify`."""

import json
from typing import Any

from sqlalchemy import Engine

from activities.audit_check import audit_export
from models.audit_chain import ChainReport
from service.access import Action
from service.actor import Actor
from service.queries import checked, viewable_case


def audit_trail(
    engine: Engine, actor: Actor, case_ref: str
) -> tuple[list[dict[str, Any]], ChainReport]:
    """The case's entries (IDs, kinds, dates, who: no personal data) and its chain's state,
    once the actor may export the audit trail (service/access.py); a refusal is logged."""
    case = viewable_case(engine, actor, case_ref)
    checked(engine, actor, Action.EXPORT_AUDIT, case)
    return audit_export(engine, case_ref)


def export_text(lines: list[dict[str, Any]]) -> str:
    """JSON Lines, one entry a line, with the hashes."""
    return "".join(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n" for line in lines)
