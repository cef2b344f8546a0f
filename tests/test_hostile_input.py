"""Hostile and malformed input: every command refuses it with one clear line and changes
nothing, checked in the case database and in the workflow's own state."""

from datetime import timedelta

import pytest
from sqlalchemy import Engine, inspect

from models.case import OffenderCase
from models.records import LicenceCondition, Representation
from models.victim import Victim
from models.vocabulary import Stage
from tests.cli_harness import Cli, case_args, case_with_victim, count, today
from tests.helpers import VLO_ACTOR


def table_counts(engine: Engine) -> dict[str, int]:
    return {
        model.__name__: count(engine, model)
        for model in (OffenderCase, Victim, Representation, LicenceCondition)
    }


@pytest.mark.parametrize(
    "argv",
    [
        ["register-case", "--case-ref", "A1234", "--term-months", "twelve"],
        ["register-case", "--case-ref", "A1234", "--sentence-date", "2026-02-30"],
        ["register-case", "--case-ref", "A1234", "--sentence-type", "flogging"],
        ["opt-in", "--case", "A1234", "--victim", "-1", "--level", "annual"],
        ["opt-in", "--case", "A1234", "--victim", "1", "--level", "everything"],
        ["complete-task", "--task", "1.5"],
        ["record-release", "--case", "A1234", "--date", "yesterday"],
    ],
)
async def test_wrong_types_and_impossible_dates_are_refused_by_the_parser(
    cli: Cli, argv: list[str]
) -> None:
    """One line naming the bad argument and where the usage is, not argparse's usage block."""
    before = table_counts(cli.engine)
    error = await cli.refused(*argv)  # exit 2, one line starting "error:"
    assert error.endswith(f"(see: starter.py {argv[0]} --help)")
    assert table_counts(cli.engine) == before


async def test_injection_and_control_characters_change_nothing(cli: Cli) -> None:
    case_ref, victim_id, _ = await case_with_victim(cli)
    before = table_counts(cli.engine)
    tables_before = set(inspect(cli.engine).get_table_names())

    error = await cli.refused(*case_args("X'; DROP TABLE victim;--", today()))
    assert "case_ref" in error
    for bad_name in ("Eve\x00Null", "Eve\x1b[31mRed", "Eve\nNewline"):
        error = await cli.refused(
            "add-victim",
            "--case",
            case_ref,
            "--details",
            cli.details(full_name=bad_name, address="1 Road"),
        )
        assert "full_name" in error and "control characters" in error
    represent = ["submit-representations", "--case", case_ref, "--victim", str(victim_id)]
    error = await cli.refused(*represent, "--text-file", cli.text("I want\x00 no contact"))
    assert "control characters" in error
    error = await cli.refused(
        "add-victim", "--case", case_ref, "--details", cli.details(full_name="N" * 500, address="x")
    )
    assert "full_name" in error and "120" in error
    error = await cli.refused(
        "record-conditions",
        "--case",
        case_ref,
        "--kind",
        "no_contact",
        "--victim-related",
        "--text-file",
        cli.text("x" * 3000),
        "--starts",
        today().isoformat(),
    )
    assert "description" in error
    assert table_counts(cli.engine) == before
    assert set(inspect(cli.engine).get_table_names()) == tables_before


async def test_sql_looking_names_are_stored_as_plain_text(cli: Cli) -> None:
    """The ORM binds every value: a name that looks like SQL is just a name (O'Brien too)."""
    case_ref, _, _ = await case_with_victim(cli)
    name = "Robert'); DROP TABLE victim;-- O'Brien"
    await cli.ok(
        "add-victim",
        "--case",
        case_ref,
        "--details",
        cli.details(full_name=name, address="2 Road", postcode="LS6 1AA"),
    )
    from sqlmodel import select

    from models.db import session_scope

    with session_scope(cli.engine) as session:
        assert session.exec(select(Victim).where(Victim.full_name == name)).one()
    assert count(cli.engine, Victim) == 2


async def test_oversized_representations_and_unknown_ids_change_nothing(cli: Cli) -> None:
    case_ref, victim_id, offer = await case_with_victim(cli)
    await cli.ok("complete-task", "--task", str(offer.id))
    await cli.ok("opt-in", "--case", case_ref, "--victim", str(victim_id), "--level", "annual")
    state_before = await cli.vcs.victim_view(victim_id, VLO_ACTOR)
    before = table_counts(cli.engine)

    represent = ["submit-representations", "--case", case_ref, "--victim", str(victim_id)]
    error = await cli.refused(*represent, "--text-file", cli.text("x" * 20_001))
    assert "20000" in error or "20_000" in error or "limit" in error
    assert "no victim 999999" in await cli.refused(
        "opt-in", "--case", case_ref, "--victim", "999999", "--level", "annual"
    )
    assert "no task 999999" in await cli.refused("complete-task", "--task", "999999")
    assert "no case" in await cli.refused(
        "record-release", "--case", "NOPE-1", "--date", today().isoformat()
    )
    # Out of order: a representation for a victim who has left the scheme.
    await cli.ok("opt-out", "--case", case_ref, "--victim", str(victim_id))
    assert "not opted in" in await cli.refused(*represent, "--text-file", cli.text("hello"))
    # A release date before the sentence, a key stage in the future.
    error = await cli.refused(
        "record-release", "--case", case_ref, "--date", (today() - timedelta(days=400)).isoformat()
    )
    assert "before the sentence date" in error
    error = await cli.refused(
        "record-key-stage",
        "--case",
        case_ref,
        "--stage",
        "escape",
        "--date",
        (today() + timedelta(days=3)).isoformat(),
    )
    assert "in the future" in error

    assert table_counts(cli.engine) == before
    state_after = await cli.vcs.victim_view(victim_id, VLO_ACTOR)
    assert state_after.stage is Stage.OPTED_OUT
    assert state_after.open_tasks == state_before.open_tasks
