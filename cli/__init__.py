"""The command line for ops and scripting: thin command groups over service/, acting as the
configured service identity (cli/identity.py). Every error is one line on stderr."""

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError
from temporalio.service import RPCError

from cli import audit, cases, demo, handoffs, hospital, parole, schedules, sharing, tasks, victims
from cli.common import Handler, OneLineParser, Out, validation_message
from cli.identity import cli_actor
from models.errors import UnavailableError, VcsError
from service.access import Refused
from service.actor import Actor
from service.vcs import Vcs, connect_service

READER_GONE = 141  # 128 + SIGPIPE: what a Unix tool returns when its reader stops reading
GROUPS = (cases, victims, tasks, sharing, audit, parole, hospital, demo, handoffs, schedules)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="starter.py",
        allow_abbrev=False,  # --text must not pass for --text-file
        description="Victim Contact Scheme: the victim liaison officer's tool.",
        epilog="Dates are YYYY-MM-DD. Identity: VCS_CLI_IDENTITY, VCS_CLI_ROLES, VCS_CLI_REGION "
        "(README). Temporal connection: TEMPORAL_ADDRESS / envconfig profile; case database: "
        "VCS_DATABASE_URL (default: SQLite under data/).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, handler: Handler) -> argparse.ArgumentParser:
        p = commands.add_parser(name, help=help_text, description=help_text, allow_abbrev=False)
        p.set_defaults(handler=handler)
        return p

    for group in GROUPS:
        group.add_commands(command)
    return parser


async def run(
    argv: Sequence[str],
    vcs: Vcs | None = None,
    out: Out = print,
    actor: Actor | None = None,
) -> int:
    """Run one command. Exit status: 0 done, 2 refused (nothing changed), 3 unreachable,
    141 the reader of the output went away (`| head`), as for any Unix tool."""
    try:
        return await run_command(argv, vcs, out, actor)
    except BrokenPipeError:
        return READER_GONE
    except SystemExit as done:  # argparse: --help (0), or a refusal it printed as one line
        return done.code if isinstance(done.code, int) else 2


async def run_command(argv: Sequence[str], vcs: Vcs | None, out: Out, actor: Actor | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        actor = actor or cli_actor()
        if vcs is None:
            vcs = await connect_service()
        if getattr(args, "victim", None) is not None:
            vcs.victim_on_case(args.victim, args.case_ref)
        await args.handler(vcs, args, actor, out)
    except UnavailableError as err:
        print(f"error: {err}", file=sys.stderr)
        return 3
    except (VcsError, Refused) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ValidationError as err:
        print(f"error: {validation_message(err)}", file=sys.stderr)
        return 2
    except RPCError as err:
        print(
            f"error: cannot reach Temporal ({err.message}); is it running? (bin/run-demo)",
            file=sys.stderr,
        )
        return 3
    except RuntimeError as err:
        if "connect" in str(err).lower():
            print(f"error: cannot reach Temporal: {err}", file=sys.stderr)
            return 3
        raise
    return 0
