"""Parole Board reviews (workflows/review_path.py; domain.md 'Parole'). Commands about one victim
find the review from the victim's case; each takes --review to name an older one."""

import argparse

from cli.common import (
    Command,
    Handler,
    Out,
    case_flag,
    parse_date,
    read_text,
    text_file_flag,
    victim_flags,
)
from models.errors import VcsError
from models.parole import READ_ALOUD_WORDS, ParoleTimetable, ParoleView
from models.vocabulary import ParoleOutcome
from service.actor import Actor
from service.vcs import Vcs


async def refer(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    timetable = ParoleTimetable(
        referred_on=args.referred_on,
        vps_due_on=args.vps_due,
        hearing_on=args.hearing,
        oral_hearing=not args.paper,
    )
    out((await vcs.refer_parole(args.case_ref, timetable, actor)).message)


async def submit_vps(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    if not args.checked:
        raise VcsError(
            "a VPS must not say whether the prisoner should be released: read it, then "
            "confirm with --checked that it does not"
        )
    text = read_text(args.text_file)
    out((await vcs.submit_vps(args.victim, text, True, actor, args.review)).message)
    words = len(text.split())
    if words > READ_ALOUD_WORDS:
        out(f"note: {words} words; a VPS should take under 10 minutes to read aloud")


async def representations(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    text = read_text(args.text_file)
    result = await vcs.submit_parole_representations(args.victim, text, actor, args.review)
    out(result.message)


async def apply_to_read(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    out((await vcs.apply_to_read(args.victim, actor, args.review)).message)


async def read_decision(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    result = await vcs.record_read_decision(args.victim, args.granted, actor, args.review)
    out(result.message)


async def set_hearing(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    result = await vcs.set_hearing(args.case_ref, args.date, not args.paper, actor, args.review)
    out(result.message)


async def adjourn(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    result = await vcs.adjourn_hearing(
        args.case_ref, args.hearing, args.vps_due, actor, args.review
    )
    out(result.message)


async def decision(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    result = await vcs.record_parole_decision(
        args.case_ref, ParoleOutcome(args.outcome), args.date, args.next_review, actor, args.review
    )
    out(result.message)


async def summary(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    out((await vcs.request_decision_summary(args.victim, actor, args.review)).message)


async def show(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    for line in describe_parole(await vcs.parole_view(args.case_ref, actor, args.review)):
        out(line)


def describe_parole(view: ParoleView) -> list[str]:
    """A review as a VLO reads it: IDs, dates and outcomes only (never a statement's words)."""
    t = view.timetable
    passed = " (passed)" if view.deadline_passed else ""
    kind = "oral hearing" if t.oral_hearing else "paper decision"
    hearing = f"{kind} {t.hearing_on}" if t.hearing_on else "hearing not yet listed"
    adjourned = f", adjourned {view.adjournments} time(s)" if view.adjournments else ""
    lines = [
        f"parole review {view.review_id} of case {view.case_ref}: referred {t.referred_on}; "
        f"VPS due {t.vps_due_on}{passed}; {hearing}{adjourned}",
        f"  victims invited: {', '.join(map(str, view.invited)) or 'none'}",
    ]
    for vps in view.statements:
        late = f", LATE ({vps.late_reason})" if vps.late_reason else ""
        lines.append(
            f"  VPS {vps.vps_id} of victim {vps.victim_id}: received {vps.received_on}, sent to "
            f"the Board{late}"
        )
    for application in view.read_applications:
        state = {None: "awaiting the Board", True: "granted", False: "refused"}[application.granted]
        lines.append(
            f"  victim {application.victim_id} applied {application.applied_on} to read their "
            f"VPS at the hearing: {state}"
        )
    if view.decision is not None:
        d = view.decision
        nxt = f"; next review {d.next_review_on}" if d.next_review_on else ""
        told = ", ".join(map(str, view.told)) or "none"
        lines.append(f"  decision: {d.outcome.value} on {d.decided_on}{nxt}; told victims {told}")
        if view.summaries:
            lines.append(f"  summary asked for by victims {', '.join(map(str, view.summaries))}")
    if view.finished:
        lines.append("  review ended")
    for on, what in view.scheduled:
        lines.append(f"  {on}  {what}")
    return lines


def add_commands(command: Command) -> None:
    def review(name: str, help_text: str, handler: Handler) -> argparse.ArgumentParser:
        p = command(name, help_text, handler)
        p.add_argument("--review", help="the review's ID (default: the case's latest)")
        return p

    p = command(
        "refer-parole",
        "record a referral to the Parole Board: every victim in the scheme is invited to make "
        "a VPS and representations by the Board's deadline",
        refer,
    )
    case_flag(p)
    p.add_argument("--referred-on", required=True, type=parse_date)
    p.add_argument(
        "--vps-due", required=True, type=parse_date, help="the Board's deadline for statements"
    )
    p.add_argument("--hearing", type=parse_date, help="the hearing date, if listed")
    p.add_argument("--paper", action="store_true", help="decided on the papers, no oral hearing")

    p = review(
        "submit-vps",
        "record a victim's Victim Personal Statement (stored encrypted) and send it to the Board",
        submit_vps,
    )
    victim_flags(p)
    text_file_flag(p, "the statement (a VPS is always in writing)")
    p.add_argument(
        "--checked",
        action="store_true",
        help="you have read it: it does not say whether the prisoner should be released",
    )

    p = review(
        "parole-representations",
        "record a victim's representations on licence conditions for the Parole Board",
        representations,
    )
    victim_flags(p)
    text_file_flag(p, "the representations")

    p = review(
        "apply-to-read",
        "record a victim's application to read their VPS at the oral hearing",
        apply_to_read,
    )
    victim_flags(p)

    p = review(
        "read-decision",
        "record the Board's decision on an application to read a VPS",
        read_decision,
    )
    victim_flags(p)
    verdict = p.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--granted", action="store_true")
    verdict.add_argument("--refused", action="store_true")

    p = review(
        "set-hearing", "record the date the Board hears (or decides on the papers)", set_hearing
    )
    case_flag(p)
    p.add_argument("--date", required=True, type=parse_date)
    p.add_argument("--paper", action="store_true", help="decided on the papers, no oral hearing")

    p = review(
        "adjourn", "record an adjourned or deferred hearing: every timer moves with it", adjourn
    )
    case_flag(p)
    p.add_argument(
        "--hearing",
        type=parse_date,
        help="the new hearing date (none: a review deferred before its hearing is listed, "
        "with --vps-due)",
    )
    p.add_argument("--vps-due", type=parse_date, help="a new deadline, if the Board set one")

    p = review(
        "parole-decision",
        "record the Board's decision: every victim in the scheme is told",
        decision,
    )
    case_flag(p)
    p.add_argument("--outcome", required=True, choices=[x.value for x in ParoleOutcome])
    p.add_argument("--date", required=True, type=parse_date, help="when the Board decided")
    p.add_argument("--next-review", type=parse_date, help="no release: when the next review is")

    p = review("decision-summary", "a victim asks for a summary of the Board's reasons", summary)
    victim_flags(p)

    p = review("parole-show", "where a case's parole review stands", show)
    case_flag(p)
