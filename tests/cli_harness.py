"""Drives `starter.run` as a VLO types it, checking the error contract on every call: exit 0
prints nothing on stderr; a refusal prints exactly one line starting "error:", with no traceback
and no victim's personal data. Shared by the CLI and hostile-input tests."""

import json
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import func, select
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

import starter
from models.db import session_scope
from models.records import VloTask
from models.vocabulary import Stage, TaskKind
from models.working_days import london_today
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.helpers import eventually, stage, tasks
from worker import build_worker

VLO = "vlo.jones"

# Personal data that must never reach an error line (or an unnamed listing).
NAME = "Zelda Quillfeather"
ADDRESS = "7 Hidden Lane, Otley"
POSTCODE = "LS21 9ZZ"
EMAIL = "zelda.q@example.invalid"
OTHER_NAME = "Yorick Brambleworth"
OTHER_ADDRESS = "12 Secret Close, Ilkley"
OTHER_POSTCODE = "LS29 8QQ"
PERSONAL = (NAME, ADDRESS, POSTCODE, EMAIL, OTHER_NAME, OTHER_ADDRESS, OTHER_POSTCODE)


def today() -> date:
    """The real today, as the workflows see it: the date in London."""
    return london_today()


@dataclass
class Result:
    code: int
    out: list[str]
    err: str


class Cli:
    """Runs `starter.run` as a VLO would, checking the stderr contract on every call."""

    def __init__(self, vcs: Vcs, capsys: pytest.CaptureFixture[str]) -> None:
        self.vcs = vcs
        self.engine = vcs.engine
        self.capsys = capsys
        self.files = Path(tempfile.mkdtemp(prefix="vcs-cli-"))

    def text(self, words: str) -> str:
        """A file holding free text, as a VLO saves it for --text-file (never argv)."""
        path = self.files / f"text-{len(list(self.files.iterdir()))}.txt"
        path.write_text(words, encoding="utf-8", errors="surrogateescape")
        return str(path)

    def details(self, **fields: object) -> str:
        """A victim's (or a hospital's) details as a JSON file, for --details."""
        path = self.files / f"details-{len(list(self.files.iterdir()))}.json"
        path.write_text(json.dumps(fields), encoding="utf-8")
        return str(path)

    async def __call__(self, *argv: str) -> Result:
        self.capsys.readouterr()  # start clean: only this command's stderr is judged
        lines: list[str] = []
        code = await starter.run(list(argv), vcs=self.vcs, out=lines.append)
        err = self.capsys.readouterr().err
        if code == 0:
            assert err == "", f"{argv}: exit 0 but stderr {err!r}"
        else:
            assert err.startswith("error: "), f"{argv}: {err!r}"
            assert err.endswith("\n") and err.count("\n") == 1, f"{argv}: not one line: {err!r}"
            assert "Traceback" not in err
            leaked = [p for p in PERSONAL if p.lower() in err.lower()]
            assert not leaked, f"{argv}: error line shows personal data {leaked}: {err!r}"
        return Result(code, lines, err)

    async def refused(self, *argv: str) -> str:
        """Run a command that must be refused with exit 2; return its error line."""
        result = await self(*argv)
        assert result.code == 2, f"{argv}: expected exit 2, got {result}"
        assert result.out == []
        return result.err.strip()

    async def ok(self, *argv: str) -> list[str]:
        result = await self(*argv)
        assert result.code == 0, f"{argv}: expected exit 0, got {result}"
        return result.out


@pytest.fixture
async def cli(
    local_env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    capsys: pytest.CaptureFixture[str],
) -> AsyncIterator[Cli]:
    async with build_worker(local_env.client, engine, task_queue):
        yield Cli(Vcs(local_env.client, engine, task_queue), capsys)


def case_args(
    case_ref: str,
    sentenced: date,
    *,
    term_months: int = 24,
    offence: str = "sch15_violent:Wounding with intent",
    **milestones: date,
) -> list[str]:
    """register-case from flags; milestones default to a plausible determinate sentence."""
    dates = {
        "crd": sentenced + timedelta(days=365),
        "led": sentenced + timedelta(days=730),
        "sed": sentenced + timedelta(days=730),
        **milestones,
    }
    args = [
        "register-case",
        "--case-ref",
        case_ref,
        "--region",
        "Yorkshire and the Humber",
        "--sentence-type",
        "imprisonment",
        "--term-months",
        str(term_months),
        "--sentence-date",
        sentenced.isoformat(),
        "--offence",
        offence,
    ]
    for flag, day in dates.items():
        args += [f"--{flag.replace('_', '-')}", day.isoformat()]
    return args


VICTIM = {"full_name": NAME, "address": ADDRESS, "postcode": POSTCODE}
VICTIM_ADDED = re.compile(r"^victim (\d+) added: offer task (\d+) due (\S+)")


async def add_victim(cli: Cli, case_ref: str, *extra: str) -> int:
    extra = extra or ("--details", cli.details(**VICTIM))
    [line] = await cli.ok("add-victim", "--case", case_ref, *extra)
    match = VICTIM_ADDED.match(line)
    assert match, line
    victim_id = int(match.group(1))

    # The task and due date printed are those of the offer task the victim's path opened.
    def offer_tasks() -> list[VloTask]:
        return [t for t in tasks(cli.engine, victim_id) if t.kind is TaskKind.OFFER_SCHEME]

    [offer] = await eventually(offer_tasks)
    assert int(match.group(2)) == offer.id
    assert match.group(3) == offer.due_on.isoformat()
    return victim_id


async def case_with_victim(cli: Cli, sentenced: date | None = None) -> tuple[str, int, VloTask]:
    """A registered case with one identified victim whose offer task is open."""
    case_ref = unique_ref("CLI")
    await cli.ok(*case_args(case_ref, sentenced or today() - timedelta(days=7)))
    victim_id = await add_victim(cli, case_ref)
    [offer] = await eventually(lambda: tasks(cli.engine, victim_id))
    assert offer.kind is TaskKind.OFFER_SCHEME
    assert stage(cli.engine, victim_id) is Stage.IDENTIFIED
    return case_ref, victim_id, offer


def count(engine: Engine, model: type, *where: Any) -> int:
    with session_scope(engine) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


async def workflow_exists(env: WorkflowEnvironment, workflow_id: str) -> bool:
    try:
        await env.client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True
