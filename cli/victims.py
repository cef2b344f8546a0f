"""Commands about a case's victims: add one (details from a file or standard input, never
argv), their choice to join or leave the scheme, their representations, and the list."""

import argparse
import sys

from cli.common import (
    Command,
    Out,
    case_flag,
    read_json,
    read_text,
    strict,
    text_file_flag,
    victim_flags,
)
from models.errors import VcsError
from models.victim import VictimBase
from models.vocabulary import Channel, ContactLevel, Language
from service.actor import Actor
from service.vcs import Vcs

DETAILS_HELP = (
    "the victim's details as a JSON object (full_name, address, postcode, email, phone, "
    "preferred_channel, language, represents): a file, or - for standard input; at a "
    "terminal, without it, you are asked for each"
)


PROMPTS = {  # asked at a terminal when no --details file is given: typed, never in argv
    "full_name": "Full name",
    "address": "Postal address (one line; Enter to skip)",
    "postcode": "Postcode (Enter to skip)",
    "email": "Email (Enter to skip)",
    "phone": "Phone (Enter to skip)",
    "represents": "Speaks for (a bereaved family's representative; Enter to skip)",
}


def prompted() -> dict[str, str]:
    """The victim's details asked for one by one, at an interactive terminal only."""
    if not sys.stdin.isatty():
        raise VcsError("add-victim needs --details FILE (or --details - for standard input)")
    answers = {field: input(f"{label}: ").strip() for field, label in PROMPTS.items()}
    return {field: value for field, value in answers.items() if value}


def victim_from(args: argparse.Namespace) -> VictimBase:
    data = read_json(args.details) if args.details else prompted()
    if isinstance(data, dict):  # the flags, if given, choose over the file
        if args.channel is not None:
            data["preferred_channel"] = args.channel
        if args.language is not None:
            data["language"] = args.language
    source = {None: "your answers", "-": "standard input"}.get(args.details, args.details)
    return strict(VictimBase, data, source)


async def add_victim(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    victim = victim_from(args)
    victim_id, added = await vcs.add_victim(args.case_ref, victim, actor)
    # The victim's path opens the offer task, due as the Victims' Code requires.
    if added.offer_task_id is None or added.offer_due is None:
        out(f"victim {victim_id} added: the scheme was offered already")
        return
    due = added.offer_due
    late = " (already overdue: contact the victim now)" if due < await vcs.today() else ""
    out(f"victim {victim_id} added: offer task {added.offer_task_id} due {due}{late}")


async def opt_in(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    out((await vcs.opt_in(args.victim, ContactLevel(args.level), actor)).message)


async def opt_out(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    out((await vcs.opt_out(args.victim, actor)).message)


async def representations(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    text = read_text(args.text_file)
    out((await vcs.submit_representations(args.victim, text, actor)).message)


async def victims(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    for row, enrolment in vcs.victims(args.case_ref, actor, with_names=args.with_names):
        name = f"  {row.full_name}" if args.with_names else ""
        stage = enrolment.stage.value if enrolment else "starting"
        level = enrolment.contact_level if enrolment and enrolment.contact_level else "-"
        channel = row.preferred_channel.value
        out(f"victim {row.id}: {stage:<12} level {level:<15} by {channel}{name}")


def add_commands(command: Command) -> None:
    p = command(
        "add-victim",
        "add a victim (or a bereaved family's representative) to a case",
        add_victim,
    )
    case_flag(p)
    p.add_argument("--details", metavar="FILE", help=DETAILS_HELP)
    p.add_argument("--channel", choices=[x.value for x in Channel], help="default: letter")
    p.add_argument("--language", choices=[x.value for x in Language], help="default: english")

    p = command("opt-in", "record that a victim joins the scheme", opt_in)
    victim_flags(p)
    p.add_argument("--level", required=True, choices=[x.value for x in ContactLevel])

    p = command(
        "opt-out", "record that a victim does not want (or no longer wants) contact", opt_out
    )
    victim_flags(p)

    p = command(
        "submit-representations",
        "record a victim's representations on licence conditions and forward them",
        representations,
    )
    victim_flags(p)
    text_file_flag(p, "the representations")

    p = command("victims", "list a case's victims and where each stands", victims)
    case_flag(p)
    p.add_argument(
        "--with-names",
        action="store_true",
        help="show names (roles that may see contact details only)",
    )
