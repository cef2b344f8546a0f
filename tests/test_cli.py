"""The VLO command line (starter.run) for good and bad input, against a real Temporal dev server.

Updates are only exercised on `start_local` (the time-skipping server is not used here), so
every date is relative to the real today. Each test runs a worker on its own task queue and
its own fresh case database; every call goes through `starter.run` exactly as a VLO types it.

Every call checks the error contract on the way: exit 0 prints nothing on stderr; any refusal
prints exactly one line, starting "error:", with no traceback and no victim's personal data.
"""

import json
import os
import re
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

import starter
from models.case import Offence, OffenderCase
from models.db import session_scope
from models.deadlines import chase_and_close, representations_opens
from models.policy import current_policy
from models.records import Correspondence, Representation, VloTask
from models.release_month import ReleaseMonth
from models.victim import Victim
from models.vocabulary import LetterKind, Stage, TaskStatus
from tests.cli_harness import (
    ADDRESS,
    EMAIL,
    NAME,
    OTHER_ADDRESS,
    OTHER_NAME,
    PERSONAL,
    POSTCODE,
    VICTIM,
    VLO,
    Cli,
    add_victim,
    case_args,
    case_with_victim,
    count,
    today,
    workflow_exists,
)
from tests.conftest import unique_ref
from tests.helpers import eventually, letters, registration, stage, tasks
from workflows.case import case_workflow_id

# ---- register-case -------------------------------------------------------------------------


async def test_register_case_from_flags_then_again_is_already_registered(cli: Cli) -> None:
    case_ref = unique_ref("CLI")
    args = case_args(case_ref, today() - timedelta(days=3))

    assert await cli.ok(*args) == [f"registered: case workflow {case_workflow_id(case_ref)}"]
    assert await cli.ok(*args) == [
        f"already registered: case workflow {case_workflow_id(case_ref)}"
    ]
    assert count(cli.engine, OffenderCase, OffenderCase.case_ref == case_ref) == 1
    assert count(cli.engine, Offence) == 1

    # The same reference with different details is refused, not silently merged.
    error = await cli.refused(*args, "--mappa-category", "2")
    assert "already registered with different details" in error
    assert count(cli.engine, OffenderCase) == 1


async def test_register_case_from_json_file(
    cli: Cli, local_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    case_ref = unique_ref("CLI")
    document = registration(case_ref, today() - timedelta(days=3)).model_dump(mode="json")
    path = tmp_path / "case.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    assert await cli.ok("register-case", "--json", str(path)) == [
        f"registered: case workflow {case_workflow_id(case_ref)}"
    ]
    assert await workflow_exists(local_env, case_workflow_id(case_ref))
    assert await cli.ok("register-case", "--json", str(path)) == [
        f"already registered: case workflow {case_workflow_id(case_ref)}"
    ]
    assert count(cli.engine, OffenderCase) == 1
    assert count(cli.engine, Offence) == 1


async def test_register_case_refuses_an_ineligible_case_naming_the_failed_rules(
    cli: Cli, local_env: WorkflowEnvironment
) -> None:
    case_ref = unique_ref("CLI")
    args = case_args(case_ref, today(), term_months=6, offence="other:theft")
    error = await cli.refused(*args)
    assert error.startswith(f"error: case {case_ref} is not eligible")
    assert "s 45(2)" in error  # no sexual or violent offence
    assert "s 45(3)" in error  # term under 12 months
    assert "6 months" in error
    assert count(cli.engine, OffenderCase) == 0
    assert not await workflow_exists(local_env, case_workflow_id(case_ref))


async def test_register_case_refuses_bad_files_dates_and_missing_flags(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    malformed = tmp_path / "broken.json"
    malformed.write_text('{"case_ref": "CLI-BROKEN", ', encoding="utf-8")
    error = await cli.refused("register-case", "--json", str(malformed))
    assert f"{malformed} is not valid JSON" in error
    assert "line 1" in error

    error = await cli.refused("register-case", "--json", str(tmp_path / "absent.json"))
    assert "cannot read" in error and "absent.json" in error

    not_a_case = tmp_path / "list.json"
    not_a_case.write_text("[1, 2]", encoding="utf-8")
    assert "input" in await cli.refused("register-case", "--json", str(not_a_case))

    wrong_date = tmp_path / "date.json"
    document = registration(unique_ref("CLI"), today()).model_dump(mode="json")
    document["sentence_date"] = "2026-13-01"
    wrong_date.write_text(json.dumps(document), encoding="utf-8")
    assert "sentence_date" in await cli.refused("register-case", "--json", str(wrong_date))

    error = await cli.refused("register-case", "--region", "Wales")
    assert "missing --case-ref" in error and "--sentence-date" in error

    # Milestones out of order: the error names both dates.
    sentenced = today() - timedelta(days=3)
    crd, led = sentenced + timedelta(days=800), sentenced + timedelta(days=400)
    error = await cli.refused(*case_args(unique_ref("CLI"), sentenced, crd=crd, led=led))
    assert "conditional release date" in error and "licence expiry date" in error
    assert crd.isoformat() in error and led.isoformat() in error

    # A release before the sentence: both dates named.
    before = sentenced - timedelta(days=1)
    error = await cli.refused(*case_args(unique_ref("CLI"), sentenced, crd=before))
    assert before.isoformat() in error and sentenced.isoformat() in error

    # A date argparse cannot read never reaches the engine: one line, exit 2.
    bad = case_args(unique_ref("CLI"), sentenced)
    bad[bad.index("--sentence-date") + 1] = "20/11/2026"
    error = await cli.refused(*bad)
    assert "'20/11/2026' is not a date (use YYYY-MM-DD)" in error

    assert count(cli.engine, OffenderCase) == 0


async def test_register_case_refuses_a_json_file_with_a_misspelt_field(
    cli: Cli, tmp_path: Path
) -> None:
    document = registration(unique_ref("CLI"), today()).model_dump(mode="json")
    document["licence_expiry_dat"] = document.pop("licence_expiry_date")
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert "licence_expiry_dat" in await cli.refused("register-case", "--json", str(path))
    assert count(cli.engine, OffenderCase) == 0


# ---- add-victim ---------------------------------------------------------------------------


async def test_add_victim_prints_ids_and_refuses_duplicates_and_unreachable_victims(
    cli: Cli,
) -> None:
    case_ref = unique_ref("CLI")
    await cli.ok(*case_args(case_ref, today() - timedelta(days=3)))
    victim_id = await add_victim(cli, case_ref)  # checks the printed victim and workflow IDs
    await eventually(lambda: stage(cli.engine, victim_id) is Stage.IDENTIFIED)

    error = await cli.refused("add-victim", "--case", case_ref, "--details", cli.details(**VICTIM))
    assert f"already recorded on case {case_ref} as victim {victim_id}" in error

    error = await cli.refused(
        "add-victim", "--case", case_ref, "--details", cli.details(full_name=OTHER_NAME),
        "--channel", "email",
    )  # fmt: skip
    assert "email" in error and "needs an email address" in error

    error = await cli.refused(
        "add-victim", "--case", "NO-SUCH-CASE", "--details", cli.details(**VICTIM)
    )
    assert "no case 'NO-SUCH-CASE'" in error

    assert count(cli.engine, Victim) == 1

    # Another victim, reached by email: fine.
    other = await add_victim(
        cli,
        case_ref,
        "--details",
        cli.details(full_name=OTHER_NAME, email=EMAIL),
        "--channel",
        "email",
        "--language",
        "cy",
    )
    assert other != victim_id
    assert count(cli.engine, Victim) == 2


# ---- tasks and complete-task ----------------------------------------------------------------


async def test_complete_offer_task_moves_victim_to_offered_and_only_once(cli: Cli) -> None:
    case_ref, victim_id, offer = await case_with_victim(cli)

    [line] = await cli.ok("tasks", "--case", case_ref)
    assert line.startswith(f"task {offer.id}: due {offer.due_on}  {case_ref} victim {victim_id}")
    assert f"[{VLO}]" in line and "offer the Victim Contact Scheme" in line
    assert NAME not in line
    assert await cli.ok("tasks", "--vlo", VLO) == [line]
    assert await cli.ok("tasks", "--vlo", "vlo.nobody") == ["no open tasks"]

    # The confirmation says what the engine did next: the letter, and the dates it set.
    chase_on, close_on = chase_and_close(today(), current_policy())
    assert await cli.ok(
        "complete-task", "--task", str(offer.id), "--text-file", cli.text("phoned victim")
    ) == [
        f"task {offer.id} completed (victim {victim_id}, case {case_ref}): offer letter sent; "
        f"chase due {chase_on}, offer closes {close_on} if still unanswered"
    ]
    await eventually(lambda: stage(cli.engine, victim_id) is Stage.OFFERED)
    assert letters(cli.engine, victim_id) == [LetterKind.OFFER]
    assert await cli.ok("tasks", "--case", case_ref) == ["no open tasks"]

    error = await cli.refused(
        "complete-task", "--task", str(offer.id), "--text-file", cli.text("again")
    )
    assert f"task {offer.id} is not an open task of victim {victim_id}" in error
    # Nothing changed: same stage, one offer letter, the first outcome kept.
    assert stage(cli.engine, victim_id) is Stage.OFFERED
    assert letters(cli.engine, victim_id) == [LetterKind.OFFER]
    with session_scope(cli.engine) as session:
        done = session.get(VloTask, offer.id)
        assert done is not None
        assert (done.status, done.outcome, done.completed_by) == (
            TaskStatus.DONE,
            "phoned victim",
            VLO,
        )

    assert "no task 999999" in await cli.refused("complete-task", "--task", "999999")
    assert "'0' is not an ID" in await cli.refused("complete-task", "--task", "0")


# ---- opt-in and opt-out -------------------------------------------------------------------


async def test_opt_in_twice_is_refused_and_a_victim_may_come_back(cli: Cli) -> None:
    case_ref, victim_id, _ = await case_with_victim(cli)
    victim = str(victim_id)
    # Sentenced a week ago, release in a year: representations are invited ahead of it.
    release = today() - timedelta(days=7) + timedelta(days=365)
    opens = representations_opens(ReleaseMonth.of(release), current_policy())
    next_step = f"next: invite representations on licence conditions on {opens}"

    assert await cli.ok(
        "opt-in", "--case", case_ref, "--victim", victim, "--level", "all_key_stages"
    ) == [f"victim {victim_id} opted in (all_key_stages): confirmation letter sent; {next_step}"]
    assert stage(cli.engine, victim_id) is Stage.OPTED_IN
    assert tasks(cli.engine, victim_id) == []  # offered and accepted in one conversation

    error = await cli.refused("opt-in", "--case", case_ref, "--victim", victim, "--level", "annual")
    assert f"victim {victim_id} is already opted in" in error
    assert letters(cli.engine, victim_id) == [LetterKind.OPT_IN_CONFIRMED]

    assert await cli.ok("opt-out", "--case", case_ref, "--victim", victim) == [
        f"victim {victim_id} opted out: no letter sent, no further contact unless they come "
        "back; 0 open task(s) closed"
    ]
    assert stage(cli.engine, victim_id) is Stage.OPTED_OUT
    assert "cannot opt out" in await cli.refused("opt-out", "--case", case_ref, "--victim", victim)

    assert await cli.ok(
        "opt-in", "--case", case_ref, "--victim", victim, "--level", "release_only"
    ) == [f"victim {victim_id} opted in (release_only): confirmation letter sent; {next_step}"]
    await eventually(lambda: stage(cli.engine, victim_id) is Stage.OPTED_IN)
    [line] = await cli.ok("victims", "--case", _case_of(cli, victim_id))
    assert "opted_in" in line and "release_only" in line

    assert "no victim 999999" in await cli.refused(
        "opt-in", "--case", case_ref, "--victim", "999999", "--level", "annual"
    )


async def test_a_victim_who_comes_back_the_same_day_is_sent_a_confirmation(cli: Cli) -> None:
    case_ref, victim_id, _ = await case_with_victim(cli)
    victim = str(victim_id)
    await cli.ok("opt-in", "--case", case_ref, "--victim", victim, "--level", "all_key_stages")
    await cli.ok("opt-out", "--case", case_ref, "--victim", victim)
    await cli.ok("opt-in", "--case", case_ref, "--victim", victim, "--level", "release_only")
    assert letters(cli.engine, victim_id) == [
        LetterKind.OPT_IN_CONFIRMED,
        LetterKind.OPT_IN_CONFIRMED,
    ]


def _case_of(cli: Cli, victim_id: int) -> str:
    with session_scope(cli.engine) as session:
        victim = session.get(Victim, victim_id)
        assert victim is not None
        case = session.get(OffenderCase, victim.case_id)
        assert case is not None
        return case.case_ref


# ---- submit-representations -----------------------------------------------------------------


async def test_representations_are_refused_unless_opted_in_and_leave_nothing_behind(
    cli: Cli, tmp_path: Path
) -> None:
    case_ref, victim_id, _ = await case_with_victim(cli)
    victim = str(victim_id)
    words = f"I live at {ADDRESS}; please keep him away."

    error = await cli.refused(
        "submit-representations",
        "--case",
        case_ref,
        "--victim",
        victim,
        "--text-file",
        cli.text(words),
    )
    assert f"victim {victim_id} is not opted in (stage identified)" in error
    assert count(cli.engine, Representation) == 0  # bad input changes nothing
    assert "representations are empty" in await cli.refused(
        "submit-representations",
        "--case",
        case_ref,
        "--victim",
        victim,
        "--text-file",
        cli.text("   "),
    )
    error = await cli.refused(
        "submit-representations",
        "--case",
        case_ref,
        "--victim",
        victim,
        "--file",
        str(tmp_path / "none.txt"),
    )
    assert "cannot read" in error
    assert "no victim 999999" in await cli.refused(
        "submit-representations",
        "--case",
        case_ref,
        "--victim",
        "999999",
        "--text-file",
        cli.text("words"),
    )
    assert count(cli.engine, Representation) == 0
    assert letters(cli.engine, victim_id) == []

    await cli.ok("opt-in", "--case", case_ref, "--victim", victim, "--level", "all_key_stages")
    letter = tmp_path / "representations.txt"
    letter.write_text(words, encoding="utf-8")
    [line] = await cli.ok(
        "submit-representations", "--case", case_ref, "--victim", victim, "--file", str(letter)
    )
    assert line.startswith("representations forwarded to the releasing authority")
    with session_scope(cli.engine) as session:
        [rep] = session.exec(select(Representation)).all()
        assert rep.victim_id == victim_id and rep.text == words
        assert rep.forwarded_to and rep.forwarded_at
    assert LetterKind.REPRESENTATIONS_RECEIVED in letters(cli.engine, victim_id)


# ---- record-release and record-key-stage ----------------------------------------------------


async def test_release_and_key_stages_refuse_future_and_repeated_dates(cli: Cli) -> None:
    case_ref = unique_ref("CLI")
    sentenced = today() - timedelta(days=10)
    await cli.ok(*case_args(case_ref, sentenced))
    tomorrow = (today() + timedelta(days=1)).isoformat()
    on = (today() - timedelta(days=1)).isoformat()

    error = await cli.refused("record-release", "--case", case_ref, "--date", tomorrow)
    assert f"release date {tomorrow} is in the future" in error
    error = await cli.refused(
        "record-release", "--case", case_ref, "--date", (sentenced - timedelta(days=1)).isoformat()
    )
    assert "before the sentence date" in error
    assert "no case 'NO-SUCH-CASE'" in await cli.refused(
        "record-release", "--case", "NO-SUCH-CASE", "--date", on
    )

    key_stage = ["record-key-stage", "--case", case_ref, "--stage", "open_conditions"]
    assert await cli.ok(*key_stage, "--date", on) == ["open_conditions recorded and victims told"]
    error = await cli.refused(*key_stage, "--date", on)
    assert f"open_conditions on {on} is already recorded" in error
    assert "in the future" in await cli.refused(*key_stage, "--date", tomorrow)

    assert await cli.ok("record-release", "--case", case_ref, "--date", on) == [
        f"release on {on} recorded; victims told the month; next: scheme ends (licence and "
        f"supervision end) on {sentenced + timedelta(days=730)}"
    ]
    error = await cli.refused("record-release", "--case", case_ref, "--date", on)
    assert f"the release on {on} is already recorded" in error
    with session_scope(cli.engine) as session:
        case = session.exec(select(OffenderCase).where(OffenderCase.case_ref == case_ref)).one()
        assert case.release_date == date.fromisoformat(on)


# ---- victims and timeline -----------------------------------------------------------------


async def test_victims_lists_stages_and_names_only_when_asked(cli: Cli) -> None:
    case_ref, first, offer = await case_with_victim(cli)
    second = await add_victim(
        cli,
        case_ref,
        "--details",
        cli.details(full_name=OTHER_NAME, address=OTHER_ADDRESS, postcode=POSTCODE),
    )
    await eventually(lambda: stage(cli.engine, second) is Stage.IDENTIFIED)
    await cli.ok("complete-task", "--task", str(offer.id))

    plain = await cli.ok("victims", "--case", case_ref)
    assert len(plain) == 2
    assert plain[0].startswith(f"victim {first}: offered")
    assert plain[1].startswith(f"victim {second}: identified")
    assert all("by letter" in line for line in plain)
    assert not [p for p in PERSONAL for line in plain if p in line]

    named = await cli.ok("victims", "--case", case_ref, "--with-names")
    assert named[0].endswith(NAME) and named[1].endswith(OTHER_NAME)
    assert [line.removesuffix(f"  {NAME}").removesuffix(f"  {OTHER_NAME}") for line in named] == (
        plain
    )
    assert ADDRESS not in " ".join(named)

    assert "no case 'NO-SUCH-CASE'" in await cli.refused("victims", "--case", "NO-SUCH-CASE")


async def test_timeline_shows_what_happened_and_what_is_scheduled_next(cli: Cli) -> None:
    sentenced = today() - timedelta(days=7)
    case_ref, victim_id, offer = await case_with_victim(cli, sentenced)
    await cli.ok("complete-task", "--task", str(offer.id))

    lines = await cli.ok("timeline", "--case", case_ref)
    assert lines[0] == f"case {case_ref}: what happened"
    split = lines.index("scheduled next")
    happened, scheduled = lines[1:split], lines[split + 1 :]

    stamp = re.compile(r"^  \d{4}-\d{2}-\d{2} \d{2}:\d{2}  ")
    assert happened and all(stamp.match(line) for line in happened), happened
    text = "\n".join(happened)
    assert "case_registered: basis=statutory" in text
    assert f"victim_added (victim {victim_id}) [{VLO}]" in text
    # The trail's facts (IDs, kinds, dates); words are notes, named by ID (models/audit.py).
    identified = rf"stage:identified: offer_due=\S+ note=\d+ \(victim {victim_id}\) \[engine\]"
    assert re.search(identified, text), text
    offered = rf"stage:offered: offered_on={today()} note=\d+ \(victim {victim_id}\) \[{VLO}\]"
    assert re.search(offered, text), text
    assert f"letter offer queued for victim {victim_id} by letter" in text
    assert not [p for p in PERSONAL if p in text]

    crd, led = sentenced + timedelta(days=365), sentenced + timedelta(days=730)
    chase_on, close_on = chase_and_close(today(), current_policy())
    assert scheduled == [
        f"  {chase_on}  victim {victim_id}: chase unanswered offer",
        f"  {close_on}  victim {victim_id}: close unanswered offer",
        f"  {crd}  case: conditional release date",
        f"  {led}  case: scheme ends (licence and supervision end)",
    ]

    assert "no case 'NO-SUCH-CASE'" in await cli.refused("timeline", "--case", "NO-SUCH-CASE")


# ---- errors in general --------------------------------------------------------------------


async def test_refusals_about_a_victim_never_show_their_personal_data(cli: Cli) -> None:
    """Cli checks every error line; this drives the refusals closest to a victim's details."""
    case_ref, victim_id, _ = await case_with_victim(cli)
    victim = str(victim_id)
    errors = [
        await cli.refused("add-victim", "--case", case_ref, "--details", cli.details(**VICTIM)),
        await cli.refused(
            "add-victim",
            "--case",
            case_ref,
            "--details",
            cli.details(full_name=NAME),
            "--channel",
            "phone",
        ),
        await cli.refused(
            "add-victim", "--case", case_ref, "--details", cli.details(full_name="x" * 121)
        ),
        await cli.refused(
            "add-victim",
            "--case",
            case_ref,
            "--details",
            cli.details(full_name=NAME, postcode=POSTCODE * 2),
        ),
        await cli.refused(
            "submit-representations",
            "--case",
            case_ref,
            "--victim",
            victim,
            "--text-file",
            cli.text(f"{NAME}, {ADDRESS}"),
        ),
        await cli.refused(
            "submit-representations",
            "--case",
            case_ref,
            "--victim",
            victim,
            "--text-file",
            cli.text(" \n "),
        ),
    ]
    assert len(errors) == len(set(errors))
    assert count(cli.engine, Victim) == 1
    assert count(cli.engine, Representation) == 0
    with session_scope(cli.engine) as session:
        assert session.exec(select(Correspondence)).all() == []


# ---- bad input at the command line (issue 13, item 6) ----------------------------------------


async def test_a_victim_is_named_with_their_case_and_another_case_is_refused(cli: Cli) -> None:
    """Victim and task IDs are numbered across all cases: a mistyped ID must not reach another
    case's victim."""
    case_ref, victim_id, offer = await case_with_victim(cli)
    other_ref = unique_ref("CLI")
    await cli.ok(*case_args(other_ref, today() - timedelta(days=7)))

    error = await cli.refused(
        "opt-in", "--case", other_ref, "--victim", str(victim_id), "--level", "annual"
    )
    assert error == f"error: victim {victim_id} is not a victim of case {other_ref}"
    error = await cli.refused("opt-in", "--victim", str(victim_id), "--level", "annual")
    assert "the following arguments are required: --case" in error
    assert "no case 'NO-SUCH'" in await cli.refused(
        "opt-out", "--case", "NO-SUCH", "--victim", str(victim_id)
    )
    error = await cli.refused("complete-task", "--task", str(offer.id), "--case", other_ref)
    assert error == f"error: task {offer.id} is not a task of case {other_ref}"
    assert stage(cli.engine, victim_id) is Stage.IDENTIFIED
    assert letters(cli.engine, victim_id) == []

    [done] = await cli.ok("complete-task", "--task", str(offer.id), "--case", case_ref)
    assert done.startswith(f"task {offer.id} completed (victim {victim_id}, case {case_ref})")


async def test_a_file_that_is_not_utf8_is_one_line_and_changes_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    case_ref, victim_id, _ = await case_with_victim(cli)
    await cli.ok("opt-in", "--case", case_ref, "--victim", str(victim_id), "--level", "annual")
    latin1 = tmp_path / "reps.txt"
    latin1.write_bytes("Please keep him away from Zoë's school".encode("cp1252"))
    error = await cli.refused(
        "submit-representations", "--case", case_ref, "--victim", str(victim_id),
        "--file", str(latin1),
    )  # fmt: skip
    assert error.startswith(f"error: {latin1} is not UTF-8 text (byte 29 cannot be read)")
    assert "Zo" not in error
    document = tmp_path / "case.json"
    document.write_bytes(b'{"case_ref": "CAF\xc9"}')
    assert "is not UTF-8 text" in await cli.refused("register-case", "--json", str(document))
    assert count(cli.engine, Representation) == 0


async def test_a_reader_that_stops_reading_ends_the_command_quietly(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    """`starter.py timeline ... | head`: no traceback, exit 141 as for any Unix tool."""
    case_ref, _, _ = await case_with_victim(cli)
    printed: list[str] = []

    def head(line: str) -> None:
        if printed:
            raise BrokenPipeError(32, "Broken pipe")
        printed.append(line)

    capsys.readouterr()
    code = await starter.run(["timeline", "--case", case_ref], vcs=cli.vcs, out=head)
    assert (code, printed) == (starter.READER_GONE, [f"case {case_ref}: what happened"])
    assert capsys.readouterr().err == ""


def test_main_exits_quietly_when_its_output_cannot_be_flushed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class ClosedPipe:
        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    async def done(argv: list[str]) -> int:
        return 0

    def exit_with(code: int) -> None:
        raise SystemExit(code)

    monkeypatch.setattr(starter, "run", done)
    monkeypatch.setattr(os, "_exit", exit_with)
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    with pytest.raises(SystemExit) as exit_info:
        starter.main()
    assert exit_info.value.code == starter.READER_GONE
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["opt-in", "--case", "A1"], "the following arguments are required: --victim, --level"),
        (["no-such-command"], "unknown command 'no-such-command' (see: starter.py --help)"),
        ([], "the following arguments are required: COMMAND (see: starter.py --help)"),
        (["tasks", "--case", "A1", "--vlo", "x"], "not allowed with argument --case"),
    ],
)
async def test_argument_errors_are_one_line_with_a_hint(
    cli: Cli, argv: list[str], says: str
) -> None:
    error = await cli.refused(*argv)  # exit 2; Cli checks: one line, "error: ", no traceback
    assert says in error and error.endswith("--help)")


async def test_confirmations_say_what_the_engine_did_next(cli: Cli) -> None:
    case_ref = unique_ref("CLI")
    sentenced = today() - timedelta(days=7)
    await cli.ok(*case_args(case_ref, sentenced))
    crd = sentenced + timedelta(days=365)
    conditions = ["record-conditions", "--case", case_ref, "--kind", "no_contact"]
    conditions += [
        "--text-file",
        cli.text("Not to contact the victim"),
        "--starts",
        crd.isoformat(),
    ]
    assert await cli.ok(*conditions, "--victim-related") == [
        "1 conditions recorded, 1 victim-related: opted-in victims told the victim-related ones"
    ]
    assert await cli.ok(*conditions, "--no-victim-related") == [
        "1 conditions recorded, 0 victim-related: none is victim-related, so no victim is "
        "written to"
    ]
    earlier = crd - timedelta(days=30)
    assert await cli.ok("record-milestones", "--case", case_ref, "--crd", earlier.isoformat()) == [
        "milestones recorded; every timer follows the new dates; next: conditional release "
        f"date on {earlier}"
    ]
