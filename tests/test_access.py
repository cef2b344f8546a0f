"""The access table (service/access.py), cell by cell: every role, every action, a case of the
actor's own region and of another. Each cell is written here by hand, as the specification."""

import pytest

from service.access import Action, Refused, Scope, allowed, check
from service.actor import Actor, Role, roles_from

ROLES = [Role.VLO, Role.SENIOR_VLO, Role.VLO_MANAGER, Role.ADMIN, Role.AUDITOR]
# Each cell: own region, other region (Y may, N may not). Columns in the order of ROLES.
EXPECTED = """
view_case               YN YN YN NN YY
view_contact_details    YN YN YN NN NN
view_my_tasks           YN YN YN NN NN
view_escalated_tasks    NN YN YN NN NN
view_region             NN NN YN NN NN
register_case           YN YN YN NN NN
add_victim              YN YN YN NN NN
change_contact_details  YN YN YN NN NN
complete_task           YN YN YN NN NN
opt_in                  YN YN YN NN NN
opt_out                 YN YN YN NN NN
submit_representations  YN YN YN NN NN
record_conditions       YN YN YN NN NN
record_milestones       YN YN YN NN NN
record_release          YN YN YN NN NN
record_key_stage        YN YN YN NN NN
record_parole_step      YN YN YN NN NN
record_hospital_step    YN YN YN NN NN
record_dhr              YN YN YN NN NN
record_disclosure       YN YN YN NN NN
reassign_task           NN YN YN NN NN
hand_off                NN NN YN NN NN
bulk_transfer           NN NN YN NN NN
view_incoming_handoffs  NN NN YN NN NN
accept_handoff          NN NN YN NN NN
refuse_handoff          NN NN YN NN NN
view_outbox             NN NN NN YN NN
mark_posted             NN NN NN YN NN
export_audit            NN NN NN NN YY
manage_schedules        NN NN YN NN NN
"""
TABLE = {
    Action(line.split()[0]): dict(zip(ROLES, line.split()[1:], strict=True))
    for line in EXPECTED.strip().splitlines()
}
CELLS = [
    (action, role, scope)
    for action in Action
    for role in ROLES
    for scope in (Scope.OWN, Scope.OTHER)
]


def test_every_action_has_a_row() -> None:
    assert set(TABLE) == set(Action)


@pytest.mark.parametrize(("action", "role", "scope"), CELLS)
def test_cell(action: Action, role: Role, scope: Scope) -> None:
    actor = Actor(id="user-1", roles=frozenset({role}), region="Wales")
    expected = TABLE[action][role][0 if scope is Scope.OWN else 1] == "Y"
    assert allowed(actor, action, scope) is expected
    region = "Wales" if scope is Scope.OWN else "London"
    if expected:
        check(actor, action, region)
    else:
        with pytest.raises(Refused):
            check(actor, action, region)


def test_an_actor_with_no_known_role_may_do_nothing() -> None:
    nobody = Actor(id="user-2", roles=roles_from(["vcs-codec-decode", "admin-ish"]), region="Wales")
    assert nobody.roles == frozenset()
    assert not any(allowed(nobody, action, Scope.OWN) for action in Action)


def test_roles_come_from_a_list_or_a_space_separated_claim() -> None:
    assert roles_from("vlo auditor") == {Role.VLO, Role.AUDITOR}
    assert roles_from(["senior_vlo", 3, None]) == {Role.SENIOR_VLO}
    assert roles_from(None) == frozenset()


def test_a_refusal_names_the_action_and_the_scope() -> None:
    admin = Actor(id="user-3", roles=frozenset({Role.ADMIN}), region="Wales")
    with pytest.raises(Refused, match="you may not record release for your region"):
        check(admin, Action.RECORD_RELEASE, "Wales")
    vlo = Actor(id="user-4", roles=frozenset({Role.VLO}), region="Wales")
    with pytest.raises(Refused, match="for a case of another region"):
        check(vlo, Action.VIEW_CASE, "London")
