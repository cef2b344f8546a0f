"""A victim's contact details: shown to a VLO of the case's region only when asked, and every
showing recorded in the case's audit trail; changed through the same validators as
registration. The details themselves never reach a log, an error or the audit trail (which
names the fields changed, not their values)."""

from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import Engine

from models.audit import AuditDetail, Ref
from models.audit_chain import append_audit
from models.case import OffenderCase
from models.db import session_scope
from models.victim import Victim, VictimBase
from service.access import Action
from service.actor import Actor
from service.queries import NotFound, checked

FIELDS = ("full_name", "address", "postcode", "email", "phone", "preferred_channel", "language")


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


class Invalid(Exception):
    """Bad input: each problem names its field; nothing was changed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


def _victim_of(engine: Engine, actor: Actor, action: Action, case_ref: str, victim_id: int) -> None:
    with session_scope(engine) as session:
        victim = session.get(Victim, victim_id)
        case = session.get(OffenderCase, victim.case_id) if victim else None
        if victim is None or case is None or case.case_ref != case_ref:
            raise NotFound(f"no victim {victim_id} on case {case_ref}")
        if victim.erased_at is not None:
            raise NotFound(f"victim {victim_id}'s details have been erased")
        session.expunge(case)
    checked(engine, actor, action, case)


def show(engine: Engine, actor: Actor, case_ref: str, victim_id: int) -> VictimBase:
    """The victim's contact details, recorded in the audit trail as shown to the actor."""
    _victim_of(engine, actor, Action.VIEW_CONTACT_DETAILS, case_ref, victim_id)
    with session_scope(engine) as session:
        victim = session.get(Victim, victim_id)
        assert victim is not None
        append_audit(
            session,
            case_id=victim.case_id,
            victim_id=victim_id,
            actor=actor.id,
            action="contact_details_shown",
            detail=AuditDetail.of(victim=victim_id),
        )
        return VictimBase.model_validate(victim.model_dump(include=set(FIELDS) | {"represents"}))


# What to do about each field, in the GOV.UK style (never quoting what was typed).
FIX = {
    "full_name": "Enter the victim's full name, up to 120 characters on one line",
    "address": "Enter an address of up to 400 characters",
    "postcode": "Enter a postcode of up to 10 characters",
    "email": "Enter an email address of up to 254 characters",
    "phone": "Enter a phone number of up to 30 characters",
    "preferred_channel": "Choose how the victim wants to be contacted",
    "language": "Choose English or Welsh",
}


def _problems(error: ValidationError) -> list[Problem]:
    fields = dict.fromkeys(str(e["loc"][0]) for e in error.errors(include_input=False) if e["loc"])
    return [Problem(f, FIX.get(f, f"Check the {f.replace('_', ' ')}")) for f in fields]


def parse(fields: dict[str, str]) -> VictimBase:
    """A victim's contact details from a form's fields (blank means none), checked as
    registration checks them: each problem names its field and never quotes what was typed."""
    given = {k: (v.strip() or None) for k, v in fields.items() if k in FIELDS}
    try:
        details = VictimBase.model_validate(given)
    except ValidationError as error:
        raise Invalid(_problems(error)) from None
    channel_problems = details.contact_problems()
    if channel_problems:
        raise Invalid([Problem("preferred_channel", p.capitalize()) for p in channel_problems])
    return details


def change(
    engine: Engine, actor: Actor, case_ref: str, victim_id: int, fields: dict[str, str]
) -> list[str]:
    """Change the victim's contact details, channel and language; returns the names of the
    fields that changed. Letters from now on use the new details (they are read when each
    letter is written)."""
    _victim_of(engine, actor, Action.CHANGE_CONTACT_DETAILS, case_ref, victim_id)
    new = parse(fields)
    with session_scope(engine) as session:
        victim = session.get(Victim, victim_id)
        assert victim is not None
        changed = [f for f in FIELDS if getattr(victim, f) != getattr(new, f)]
        for f in changed:
            setattr(victim, f, getattr(new, f))
        if changed:
            session.add(victim)
            append_audit(
                session,
                case_id=victim.case_id,
                victim_id=victim_id,
                actor=actor.id,
                action="contact_details_changed",
                detail=AuditDetail.of(victim=victim_id, fields=Ref("+".join(changed))),
            )
        return changed
