"""The command line acts as a configured service identity (issue 14): never as whoever typed a
name, checked against the same access table as the console, and never given personal data or
free text in argv (it reads files or standard input)."""

import argparse
import io
from datetime import timedelta

import pytest

import starter
from cli import build_parser
from models.access_log import AccessRefusal
from models.case import OffenderCase
from models.records import AuditEntry, Representation
from models.victim import Victim
from service.access import Refused
from service.actor import Actor, Role
from tests.cli_harness import NAME, VICTIM, Cli, add_victim, case_args, count, today
from tests.conftest import unique_ref
from tests.helpers import REGION, eventually, stage

# The flags a victim's details or free text once came in by (shell history, `ps`, logs).
PERSONAL_FLAGS = {
    "--name",
    "--address",
    "--postcode",
    "--email",
    "--phone",
    "--represents",
    "--text",
    "--outcome-text",
    "--description",
    "--discretionary-reason",
    "--by",
}


def all_options(parser: argparse.ArgumentParser) -> dict[str, set[str]]:
    """Every command's option strings."""
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {
        name: {flag for action in sub._actions for flag in action.option_strings}
        for name, sub in commands.choices.items()
    }


def test_no_command_takes_personal_data_or_an_actor_in_argv() -> None:
    options = all_options(build_parser())
    assert len(options) >= 40
    offending = {
        name: opts & PERSONAL_FLAGS for name, opts in options.items() if opts & PERSONAL_FLAGS
    }
    assert offending == {}
    # complete-task's outcome is free text: from a file (or stdin) only.
    assert "--outcome" not in options["complete-task"]


@pytest.mark.parametrize(
    ("unset", "says"),
    [
        ("VCS_CLI_IDENTITY", "the command line has no identity configured: set VCS_CLI_IDENTITY"),
        ("VCS_CLI_ROLES", "the command line has no identity configured"),
        ("VCS_CLI_REGION", "the command line has no identity configured"),
    ],
)
async def test_without_an_identity_every_command_is_refused(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, unset: str, says: str
) -> None:
    monkeypatch.delenv(unset)
    case_ref = unique_ref("ID")
    error = await cli.refused(*case_args(case_ref, today() - timedelta(days=7)))
    assert error.startswith(f"error: {says}")
    assert count(cli.engine, OffenderCase) == 0


async def test_help_needs_no_identity(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("VCS_CLI_IDENTITY")
    assert await starter.run(["--help"]) == 0
    assert "VCS_CLI_IDENTITY" in capsys.readouterr().out


async def test_an_unknown_role_is_refused(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VCS_CLI_ROLES", "vlo_manager,superuser")
    error = await cli.refused("tasks", "--case", "ANY")
    assert error == (
        "error: VCS_CLI_ROLES: unknown role(s) superuser: set VCS_CLI_IDENTITY (e.g. ops.script), "
        "VCS_CLI_ROLES (comma-separated: vlo, senior_vlo, vlo_manager, admin, auditor) and "
        "VCS_CLI_REGION (see README)"
    )


async def test_the_identity_is_checked_against_the_access_table_and_refusals_logged(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """service/access.py decides for the CLI as for the console: the admin team may not
    register a case; a VLO of another region may not touch this one; each refusal is one line,
    exit 2, logged, and changes nothing."""
    case_ref = unique_ref("ID")
    registration = case_args(case_ref, today() - timedelta(days=7))
    monkeypatch.setenv("VCS_CLI_ROLES", "admin")
    error = await cli.refused(*registration)
    assert error == "error: you may not register case for your region"
    assert count(cli.engine, OffenderCase) == 0

    monkeypatch.setenv("VCS_CLI_ROLES", "vlo")
    await cli.ok(*registration)
    victim_id = await add_victim(cli, case_ref)
    await eventually(lambda: stage(cli.engine, victim_id) is not None)

    monkeypatch.setenv("VCS_CLI_IDENTITY", "vlo.cardiff")
    monkeypatch.setenv("VCS_CLI_REGION", "Wales")
    represent = ["submit-representations", "--case", case_ref, "--victim", str(victim_id)]
    error = await cli.refused(*represent, "--text-file", cli.text("keep him away"))
    assert error == "error: you may not submit representations for a case of another region"
    assert count(cli.engine, Representation) == 0
    error = await cli.refused("victims", "--case", case_ref)
    assert error == "error: you may not view case for a case of another region"
    # Only a role that may see contact details gets the names (the auditor reads, no names).
    monkeypatch.setenv("VCS_CLI_IDENTITY", "auditor.khan")
    monkeypatch.setenv("VCS_CLI_REGION", REGION)
    monkeypatch.setenv("VCS_CLI_ROLES", "auditor")
    assert NAME not in " ".join(await cli.ok("victims", "--case", case_ref))
    error = await cli.refused("victims", "--case", case_ref, "--with-names")
    assert error == "error: you may not view contact details for your region"
    # A VLO of the region may see the names: each look is in the case's audit trail.
    monkeypatch.setenv("VCS_CLI_IDENTITY", "vlo.leeds")
    monkeypatch.setenv("VCS_CLI_ROLES", "vlo")
    assert NAME in " ".join(await cli.ok("victims", "--case", case_ref, "--with-names"))
    looked = AuditEntry.action == "contact_details_viewed"
    assert count(cli.engine, AuditEntry, looked, AuditEntry.actor == "vlo.leeds") == 1
    assert count(cli.engine, AuditEntry, looked) == 1

    assert count(cli.engine, AccessRefusal) == 4
    assert count(cli.engine, AccessRefusal, AccessRefusal.actor == "vlo.cardiff") == 2


async def test_victim_details_and_free_text_come_from_standard_input(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_ref = unique_ref("ID")
    await cli.ok(*case_args(case_ref, today() - timedelta(days=7)))
    import json

    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(VICTIM)))
    victim_id = await add_victim(cli, case_ref, "--details", "-")
    assert count(cli.engine, Victim, Victim.full_name == NAME) == 1

    monkeypatch.setattr("sys.stdin", io.StringIO("{not json"))
    error = await cli.refused("add-victim", "--case", case_ref, "--details", "-")
    assert error.startswith("error: - is not valid JSON")
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({**VICTIM, "nickname": "Z"})))
    error = await cli.refused("add-victim", "--case", case_ref, "--details", "-")
    assert error == "error: standard input: unknown field(s) nickname"
    assert count(cli.engine, Victim) == 1
    assert victim_id > 0


def test_the_service_actor_is_not_free_text() -> None:
    with pytest.raises(ValueError, match="an actor needs an id"):
        Actor(id=" ", roles=frozenset({Role.VLO}), region=REGION)


async def test_the_service_refuses_an_actor_of_another_region_before_any_change(cli: Cli) -> None:
    """The same check for tests, scripts and the console driving the service directly."""
    case_ref = unique_ref("ID")
    await cli.ok(*case_args(case_ref, today() - timedelta(days=7)))
    wales = Actor(id="vlo.cardiff", roles=frozenset({Role.VLO}), region="Wales")
    with pytest.raises(Refused, match="record release for a case of another region"):
        await cli.vcs.record_release(case_ref, today(), wales)
    with pytest.raises(Refused, match="view case for a case of another region"):
        await cli.vcs.case_view(case_ref, wales)
    assert count(cli.engine, AccessRefusal, AccessRefusal.actor == "vlo.cardiff") == 2


async def test_personal_data_typed_in_an_old_flag_is_refused_without_echoing_it(cli: Cli) -> None:
    """No abbreviation lets --text pass for --text-file (reading a 'file' named by the words),
    and the refusal names the flags, never the values (Cli checks no personal data shows)."""
    case_ref = unique_ref("ID")
    await cli.ok(*case_args(case_ref, today() - timedelta(days=7)))
    details = cli.details(**VICTIM)
    error = await cli.refused(
        "add-victim", "--case", case_ref, "--details", details, "--name", NAME
    )
    assert error == "error: unrecognized arguments: --name (see: starter.py --help)"
    error = await cli.refused("complete-task", "--task", "1", "--outcome", NAME)
    assert error == "error: unrecognized arguments: --outcome (see: starter.py --help)"
    error = await cli.refused(
        "submit-representations", "--case", case_ref, "--victim", "1", "--text", NAME
    )
    assert "required: --text-file" in error
    assert count(cli.engine, Victim) == 0


async def test_another_vlos_tasks_are_a_managers_view_of_their_own_region_only(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tasks --vlo: a VLO sees their own; a manager sees a VLO's tasks in the manager's
    region and none of another region's (service/access.py: view_region)."""
    case_ref = unique_ref("ID")
    await cli.ok(*case_args(case_ref, today() - timedelta(days=7)))
    victim_id = await add_victim(cli, case_ref)  # its offer task is vlo.jones's
    line = f"{case_ref} victim {victim_id}  [vlo.jones]"
    assert line in (await cli.ok("tasks", "--vlo", "vlo.jones"))[0]

    monkeypatch.setenv("VCS_CLI_IDENTITY", "vlo.smith")
    monkeypatch.setenv("VCS_CLI_ROLES", "vlo")
    error = await cli.refused("tasks", "--vlo", "vlo.jones")
    assert error == "error: you may not view region for your region"
    assert await cli.ok("tasks", "--vlo", "vlo.smith") == ["no open tasks"]

    monkeypatch.setenv("VCS_CLI_IDENTITY", "manager.evans")
    monkeypatch.setenv("VCS_CLI_ROLES", "vlo_manager")
    monkeypatch.setenv("VCS_CLI_REGION", "Wales")
    assert await cli.ok("tasks", "--vlo", "vlo.jones") == ["no open tasks"]


class Terminal(io.StringIO):
    """Standard input as a person at a terminal types it."""

    def isatty(self) -> bool:
        return True


async def test_at_a_terminal_the_victims_details_are_asked_for_not_typed_in_argv(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_ref = unique_ref("ID")
    await cli.ok(*case_args(case_ref, today() - timedelta(days=7)))
    # Not a terminal, no file: refused, nothing recorded.
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    error = await cli.refused("add-victim", "--case", case_ref)
    assert error == "error: add-victim needs --details FILE (or --details - for standard input)"
    assert count(cli.engine, Victim) == 0

    answers = [VICTIM["full_name"], VICTIM["address"], VICTIM["postcode"], "", "", ""]
    monkeypatch.setattr("sys.stdin", Terminal("".join(a + "\n" for a in answers)))
    victim_id = await add_victim(cli, case_ref, "--channel", "letter")
    at_postcode = Victim.postcode == VICTIM["postcode"]
    assert count(cli.engine, Victim, Victim.id == victim_id, at_postcode) == 1
