"""Reassigning one open task (issue 14: senior VLOs and managers, in their own region), from
the command line and the service, against a real Temporal dev server. A refusal changes
nothing; the error contract on every call is checked by tests/cli_harness.py."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from models.audit import stored_facts
from models.db import session_scope
from models.records import AuditEntry, VloTask
from models.task_repository import task_by_id
from models.vocabulary import TaskStatus
from service.queries import my_tasks
from service.tasks import BAD_USER_NAME
from tests.cli_harness import VLO, Cli, case_with_victim, count, today
from tests.helpers import eventually, vlo_actor

NEW_VLO = "vlo.smith"
REGION = "Yorkshire and the Humber"


def as_cli(monkeypatch: pytest.MonkeyPatch, who: str, roles: str, region: str = REGION) -> None:
    monkeypatch.setenv("VCS_CLI_IDENTITY", who)
    monkeypatch.setenv("VCS_CLI_ROLES", roles)
    monkeypatch.setenv("VCS_CLI_REGION", region)


def reassignments(cli: Cli) -> list[dict[str, object]]:
    with session_scope(cli.engine) as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == "task_reassigned")).all()
        return [f for r in rows if isinstance(f := stored_facts(r.detail), dict)]


async def test_a_senior_vlo_reassigns_a_task_and_the_new_vlo_has_it(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, offer = await case_with_victim(cli)
    assert offer.assigned_to == VLO
    as_cli(monkeypatch, "senior.patel", "senior_vlo")

    [line] = await cli.ok("reassign-task", "--task", str(offer.id), "--to", NEW_VLO)
    assert line == f"task {offer.id} reassigned to {NEW_VLO}"
    moved = task_by_id(cli.engine, offer.id or 0)
    assert (moved.assigned_to, moved.due_on) == (NEW_VLO, offer.due_on)
    # IDs and kinds only in the trail: who did it is the entry's actor.
    assert reassignments(cli) == [
        {"task": offer.id, "kind": "offer_scheme", "from_vlo": VLO, "to_vlo": NEW_VLO}
    ]

    # The new VLO sees it among their tasks, and completing it goes through the workflow.
    as_cli(monkeypatch, NEW_VLO, "vlo")
    [listed] = await cli.ok("tasks", "--vlo", NEW_VLO)
    assert listed.startswith(f"task {offer.id}: ") and f"[{NEW_VLO}]" in listed
    mine = my_tasks(cli.engine, vlo_actor(NEW_VLO), today())
    assert [t.task_id for t in mine] == [offer.id]
    await cli.ok("complete-task", "--task", str(offer.id))
    done = await eventually(lambda: task_by_id(cli.engine, offer.id or 0).status is TaskStatus.DONE)
    assert done


async def test_a_vlo_may_not_reassign_and_nothing_changes(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, offer = await case_with_victim(cli)
    as_cli(monkeypatch, VLO, "vlo")
    error = await cli.refused("reassign-task", "--task", str(offer.id), "--to", NEW_VLO)
    assert error == "error: you may not reassign task for your region"
    assert task_by_id(cli.engine, offer.id or 0).assigned_to == VLO
    assert reassignments(cli) == []


async def test_another_regions_task_is_refused(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, offer = await case_with_victim(cli)
    as_cli(monkeypatch, "manager.wales", "vlo_manager", region="Wales")
    error = await cli.refused("reassign-task", "--task", str(offer.id), "--to", NEW_VLO)
    assert error == "error: you may not reassign task for a case of another region"
    assert task_by_id(cli.engine, offer.id or 0).assigned_to == VLO


async def test_bad_names_unknown_done_and_escalated_tasks_are_refused(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, offer = await case_with_victim(cli)
    as_cli(monkeypatch, "senior.patel", "senior_vlo")
    task = str(offer.id)
    for bad in ("x", "role:vlo-manager", "two words", "a" * 61):
        error = await cli.refused("reassign-task", "--task", task, "--to", bad)
        assert error == f"error: {BAD_USER_NAME}"  # the name typed is not repeated
    error = await cli.refused("reassign-task", "--task", task, "--to", VLO)
    assert error == f"error: task {task} is already {VLO}'s"
    assert await cli.refused("reassign-task", "--task", "999999", "--to", NEW_VLO) == (
        "error: no task 999999"
    )

    # An escalation is held by a role (workflows/tasks.py ESCALATION_ROLES): it stays there.
    with session_scope(cli.engine) as session:
        escalation = VloTask(
            task_key=f"test-escalation-{offer.id}",
            workflow_id=offer.workflow_id,
            case_id=offer.case_id,
            victim_id=offer.victim_id,
            kind=offer.kind,
            title=offer.title,
            assigned_to="role:senior-vlo",
            due_on=offer.due_on,
            escalation_level=1,
            escalates_task_id=offer.id,
            created_at=datetime.now(UTC),
        )
        session.add(escalation)
        session.flush()
        escalation_id = escalation.id
    error = await cli.refused("reassign-task", "--task", str(escalation_id), "--to", NEW_VLO)
    assert error == f"error: task {escalation_id} is an escalation: it stays with its role"
    assert task_by_id(cli.engine, escalation_id or 0).assigned_to == "role:senior-vlo"

    # A task no longer open is not reassigned.
    as_cli(monkeypatch, VLO, "vlo")
    await cli.ok("complete-task", "--task", task)
    await eventually(lambda: task_by_id(cli.engine, offer.id or 0).status is TaskStatus.DONE)
    as_cli(monkeypatch, "senior.patel", "senior_vlo")
    error = await cli.refused("reassign-task", "--task", task, "--to", NEW_VLO)
    assert error == f"error: task {task} is not open: only an open task is reassigned"
    assert task_by_id(cli.engine, offer.id or 0).assigned_to == VLO
    assert reassignments(cli) == []
    assert count(cli.engine, AuditEntry, AuditEntry.action == "task_reassigned") == 0
