"""Who may do what: one table, role x action x scope, decided here and nowhere else.

Deny by default: an action not in the table, an actor with no role the table names, or a case
in another region where the rule allows only the actor's own, is refused. Local policy for the
region's victim liaison unit (issue 14): VLOs act on their own region's cases and see a victim's
contact details only by asking (audited); senior VLOs also take escalated tasks and reassign
tasks in the region; managers see the region, and hand cases off and transfer them in bulk; the
admin team has the letters outbox only; auditors read, export and verify the audit trail.
"""

from dataclasses import dataclass
from enum import StrEnum

from service.actor import Actor, Role


class Action(StrEnum):
    # reading a case
    VIEW_CASE = "view_case"
    VIEW_CONTACT_DETAILS = "view_contact_details"  # audited, every time
    VIEW_MY_TASKS = "view_my_tasks"
    VIEW_ESCALATED_TASKS = "view_escalated_tasks"
    VIEW_REGION = "view_region"  # region-wide views and reports
    # a VLO's work on a case
    REGISTER_CASE = "register_case"
    ADD_VICTIM = "add_victim"
    CHANGE_CONTACT_DETAILS = "change_contact_details"
    COMPLETE_TASK = "complete_task"
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"
    SUBMIT_REPRESENTATIONS = "submit_representations"
    RECORD_CONDITIONS = "record_conditions"
    RECORD_MILESTONES = "record_milestones"
    RECORD_RELEASE = "record_release"
    RECORD_KEY_STAGE = "record_key_stage"
    RECORD_PAROLE_STEP = "record_parole_step"
    RECORD_HOSPITAL_STEP = "record_hospital_step"
    RECORD_DHR = "record_dhr"
    RECORD_DISCLOSURE = "record_disclosure"
    REASSIGN_TASK = "reassign_task"
    # the region's manager
    HAND_OFF = "hand_off"
    BULK_TRANSFER = "bulk_transfer"
    # the receiving region's manager: scope is the hand-off's receiving region, not the case's
    VIEW_INCOMING_HANDOFFS = "view_incoming_handoffs"  # IDs, regions, steps and dates only
    ACCEPT_HANDOFF = "accept_handoff"
    REFUSE_HANDOFF = "refuse_handoff"  # a withdrawal with reason refused_by_receiver
    # the admin team
    VIEW_OUTBOX = "view_outbox"
    MARK_POSTED = "mark_posted"
    # audit
    EXPORT_AUDIT = "export_audit"
    # operations
    MANAGE_SCHEDULES = "manage_schedules"  # the daily jobs (workflows/schedules.py)


class Scope(StrEnum):
    OWN = "own"  # a case (or letter, task) of the actor's own region
    OTHER = "other"  # of another region


@dataclass(frozen=True)
class Rule:
    own_region: frozenset[Role]  # these roles may act on their own region's cases
    any_region: frozenset[Role] = frozenset()  # these on any region's


VLOS = frozenset({Role.VLO, Role.SENIOR_VLO, Role.VLO_MANAGER})
SENIORS = frozenset({Role.SENIOR_VLO, Role.VLO_MANAGER})
MANAGER = frozenset({Role.VLO_MANAGER})
ADMIN = frozenset({Role.ADMIN})
AUDITOR = frozenset({Role.AUDITOR})

RULES: dict[Action, Rule] = {
    Action.VIEW_CASE: Rule(VLOS, any_region=AUDITOR),
    Action.VIEW_CONTACT_DETAILS: Rule(VLOS),
    Action.VIEW_MY_TASKS: Rule(VLOS),
    Action.VIEW_ESCALATED_TASKS: Rule(SENIORS),
    Action.VIEW_REGION: Rule(MANAGER),
    Action.REGISTER_CASE: Rule(VLOS),
    Action.ADD_VICTIM: Rule(VLOS),
    Action.CHANGE_CONTACT_DETAILS: Rule(VLOS),
    Action.COMPLETE_TASK: Rule(VLOS),
    Action.OPT_IN: Rule(VLOS),
    Action.OPT_OUT: Rule(VLOS),
    Action.SUBMIT_REPRESENTATIONS: Rule(VLOS),
    Action.RECORD_CONDITIONS: Rule(VLOS),
    Action.RECORD_MILESTONES: Rule(VLOS),
    Action.RECORD_RELEASE: Rule(VLOS),
    Action.RECORD_KEY_STAGE: Rule(VLOS),
    Action.RECORD_PAROLE_STEP: Rule(VLOS),
    Action.RECORD_HOSPITAL_STEP: Rule(VLOS),
    Action.RECORD_DHR: Rule(VLOS),
    Action.RECORD_DISCLOSURE: Rule(VLOS),
    Action.REASSIGN_TASK: Rule(SENIORS),
    Action.HAND_OFF: Rule(MANAGER),
    Action.BULK_TRANSFER: Rule(MANAGER),
    # The receiving provider accepts a hand-off (domain.md "Providers and hand-offs";
    # workflows/handoff_path.py: the sender supplies, the receiver accepts). Local policy: in the
    # console that is the manager of the region it goes to, who also sees what is coming (its
    # escalations already go to the receiving side's hand-off manager); checked against the
    # hand-off's recorded receiving region (service/handoffs.py, service/incoming.py).
    Action.VIEW_INCOMING_HANDOFFS: Rule(MANAGER),
    Action.ACCEPT_HANDOFF: Rule(MANAGER),
    # The receiving provider refusing a hand-off is its withdrawal with reason
    # refused_by_receiver (workflows/handoff_path.py); local policy: the same manager decides.
    Action.REFUSE_HANDOFF: Rule(MANAGER),
    Action.VIEW_OUTBOX: Rule(ADMIN),
    Action.MARK_POSTED: Rule(ADMIN),
    Action.EXPORT_AUDIT: Rule(frozenset(), any_region=AUDITOR),
    # Local policy: the scheduled jobs run for every region, so pausing or running one is the
    # managers' call (the CLI's ops identity is one); no case is reached directly.
    Action.MANAGE_SCHEDULES: Rule(MANAGER),
}


class Refused(Exception):
    """The actor may not do this. The message says what was refused, never why in detail
    beyond the role and scope (it is shown to the user and written to the audit trail)."""

    def __init__(self, actor: Actor, action: Action, scope: Scope) -> None:
        self.actor, self.action, self.scope = actor, action, scope
        where = "a case of another region" if scope is Scope.OTHER else "your region"
        super().__init__(f"you may not {action.value.replace('_', ' ')} for {where}")


def scope_of(actor: Actor, region: str | None) -> Scope:
    """A case's region against the actor's (an action on no case is in the actor's own)."""
    return Scope.OWN if region is None or region == actor.region else Scope.OTHER


def allowed(actor: Actor, action: Action, scope: Scope) -> bool:
    rule = RULES.get(action)
    if rule is None:
        return False
    if actor.roles & rule.any_region:
        return True
    return scope is Scope.OWN and bool(actor.roles & rule.own_region)


def check(actor: Actor, action: Action, region: str | None = None) -> None:
    """Raise Refused unless the actor may take this action on a case of `region`."""
    scope = scope_of(actor, region)
    if not allowed(actor, action, scope):
        raise Refused(actor, action, scope)
