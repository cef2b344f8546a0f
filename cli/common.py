"""What every command group shares: the one-line parser, argument types, and reading the files
(or standard input) that personal data and free text come from; never from argv."""

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from pydantic import ValidationError

from models.errors import VcsError
from service.actor import Actor
from service.vcs import Vcs

T = TypeVar("T")
Out = Callable[[str], None]
Handler = Callable[[Vcs, argparse.Namespace, Actor, Out], Awaitable[None]]
# command(name, help, handler) -> the command's parser, to which its flags are added
Command = Callable[[str, str, Handler], argparse.ArgumentParser]
STDIN = "-"


class OneLineParser(argparse.ArgumentParser):
    """A refusal of the arguments is one line, like every other error (README), pointing to
    the command's usage rather than printing it."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("argument COMMAND: invalid choice:"):
            message = f"unknown command {message.split()[4]}"  # not the 42 it is not
        elif message.startswith("unrecognized arguments:"):
            # Name the flags only: the values may be personal data typed where it must not be.
            flags = [word for word in message.split()[2:] if word.startswith("--")]
            message = f"unrecognized arguments: {' '.join(flags) or '(values without a flag)'}"
        self.exit(2, f"error: {message} (see: {self.prog} --help)\n")


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def positive_id(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ID (a positive whole number)")
    return int(text)


def case_flag(p: argparse.ArgumentParser, help_text: str | None = None) -> None:
    p.add_argument("--case", required=True, dest="case_ref", help=help_text)


def victim_flags(p: argparse.ArgumentParser) -> None:
    """Victim IDs are numbered across all cases: a victim is named with their case, so a
    mistyped ID is refused rather than reaching another case's victim."""
    case_flag(p, "the victim's case")
    p.add_argument("--victim", required=True, type=positive_id)


def text_file_flag(p: argparse.ArgumentParser, what: str, *, required: bool = True) -> None:
    """Free text (a victim's words, an outcome, a reason) is read from a file or standard
    input, never typed on the command line (shell history, `ps`, container logs)."""
    p.add_argument(
        "--text-file",
        "--file",
        dest="text_file",
        metavar="FILE",
        required=required,
        help=f"{what}: a UTF-8 text file, or - for standard input",
    )


def validation_message(err: ValidationError) -> str:
    parts = []
    for problem in err.errors():
        where = ".".join(str(p) for p in problem["loc"]) or "input"
        parts.append(f"{where}: {problem['msg']}")
    return "; ".join(parts)


def read_text(path: str) -> str:
    """Every file a VLO names is read here (- is standard input): one line on failure, never
    its contents."""
    try:
        if path == STDIN:
            return sys.stdin.read()
        return Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise VcsError(f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise VcsError(
            f"{path} is not UTF-8 text (byte {err.start + 1} cannot be read): save it as "
            "UTF-8 (in Word: Save As, Plain Text, Unicode UTF-8) and try again"
        ) from None


def read_json(path: str) -> Any:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise VcsError(f"{path} is not valid JSON: {err.msg} at line {err.lineno}") from None


def strict(model: type[T], data: Any, source: str) -> T:
    """Validate a JSON document, refusing fields the model does not have (a misspelt date
    must not silently become 'no date')."""
    if isinstance(data, dict):
        unknown = sorted(set(data) - set(model.model_fields))  # type: ignore[attr-defined]
        if unknown:
            raise VcsError(f"{source}: unknown field(s) {', '.join(unknown)}")
    return model.model_validate(data)  # type: ignore[attr-defined, no-any-return]
