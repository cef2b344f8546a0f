"""The VLO's tool: register cases and victims, record what victims say, drive the scheme.

    python starter.py --help

Every command checks its input before changing anything, and prints one clear line on error.
Personal data goes straight into the case database; Temporal only ever sees IDs.
"""

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from pydantic import ValidationError
from sqlalchemy import Engine
from temporalio.service import RPCError, RPCStatusCode

from models.audit import readable
from models.case import CaseRegistration
from models.db import create_tables, make_engine
from models.deadlines import offer_due
from models.delivery import delivery_words
from models.errors import UnavailableError, VcsError
from models.handoff import (
    WithdrawalReason,
)
from models.hospital import (
    HospitalBase,
)
from models.messages import (
    ActionResult,
)
from models.parole import (
    READ_ALOUD_WORDS,
    ParoleTimetable,
    ParoleView,
)
from models.policy import current_policy
from models.records import LicenceConditionBase
from models.repository import (
    audit_export,
    audit_verify,
    case_by_ref,
    disclose,
    disclosures_of,
    history,
    hospitals,
    open_tasks,
    record_supplied,
    task_on_case,
    victim_on_case,
    victims_of,
)
from models.sharing import (
    DisclosureRequest,
    InformationCategory,
    LawfulBasis,
    OnwardConsent,
    RecipientKind,
    SuppliedRequest,
)
from models.victim import VictimBase
from models.vocabulary import (
    Channel,
    ConditionKind,
    ContactLevel,
    CrcEventKind,
    DischargeKind,
    DisposalKind,
    Finding,
    HandoffReason,
    KeyStage,
    Language,
    OffenceCategory,
    ParoleOutcome,
    Provider,
    SentenceType,
)
from service.vcs import Vcs
from worker import connect
from workflows import schedules

T = TypeVar("T")
READER_GONE = 141  # 128 + SIGPIPE: what a Unix tool returns when its reader stops reading

# ---- the command line --------------------------------------------------------------------

DEMO_CASE = {
    "case_ref": "DEMO-0001",
    "provider": "NPS",
    "region": "Yorkshire and the Humber",
    "responsible_vlo": "vlo.demo",
    "sentence_type": "imprisonment",
    "term_months": 30,
    "sentence_date": "2026-11-20",
    "conditional_release_date": "2028-05-19",
    "licence_expiry_date": "2029-05-19",
    "sentence_expiry_date": "2029-05-19",
    "offences": [
        {"description": "Wounding with intent (s 18 OAPA 1861)", "category": "sch15_violent"}
    ],
}
# A second case, sentenced months ago, whose victim nobody has contacted yet: its offer task is
# overdue and escalated, as ops and managers would see it.
DEMO_OVERDUE_CASE = {
    **DEMO_CASE,
    "case_ref": "DEMO-0002",
    "region": "Wales",
    "sentence_type": "extended",
    "term_months": 48,
    "sentence_date": "2026-07-01",
    "conditional_release_date": "2028-11-01",
    "licence_expiry_date": "2031-07-01",
    "sentence_expiry_date": "2031-07-01",
    "offences": [{"description": "Rape (s 1 SOA 2003)", "category": "sch15_sexual"}],
}
DEMO_VICTIMS = [
    VictimBase(full_name="Demo Victim One", address="1 Example Row, Leeds", postcode="LS1 1AA"),
    VictimBase(
        full_name="Demo Victim Two",
        email="victim.two@example.invalid",
        preferred_channel=Channel.EMAIL,
        language=Language.WELSH,
    ),
]

DEMO_OVERDUE_VICTIM = VictimBase(
    full_name="Demo Victim Three", address="3 Example Road, Cardiff", postcode="CF10 1AA"
)

MILESTONE_FLAGS = {
    "ped": "parole_eligibility_date",
    "hdc": "home_detention_curfew_date",
    "crd": "conditional_release_date",
    "led": "licence_expiry_date",
    "sed": "sentence_expiry_date",
    "pss_end": "post_sentence_supervision_end_date",
}


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def victim_flags(p: argparse.ArgumentParser) -> None:
    """Victim IDs are numbered across all cases: a victim is named with their case, so a
    mistyped ID is refused rather than reaching another case's victim."""
    p.add_argument("--case", required=True, dest="case_ref", help="the victim's case")
    p.add_argument("--victim", required=True, type=positive_id)


class OneLineParser(argparse.ArgumentParser):
    """A refusal of the arguments is one line, like every other error (README), pointing to
    the command's usage rather than printing it."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("argument COMMAND: invalid choice:"):
            message = f"unknown command {message.split()[4]}"  # not the 42 it is not
        self.exit(2, f"error: {message} (see: {self.prog} --help)\n")


def positive_id(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ID (a positive whole number)")
    return int(text)


def validation_message(err: ValidationError) -> str:
    parts = []
    for problem in err.errors():
        where = ".".join(str(p) for p in problem["loc"]) or "input"
        parts.append(f"{where}: {problem['msg']}")
    return "; ".join(parts)


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


def registration_from(args: argparse.Namespace, by: str) -> CaseRegistration:
    if args.json:
        return strict(CaseRegistration, read_json(args.json), args.json)
    if args.disposal == DisposalKind.HOSPITAL_ORDER.value and args.sentence_type is None:
        args.sentence_type = SentenceType.HOSPITAL_ORDER.value  # made instead of a sentence
    missing = [
        flag
        for flag in ("case_ref", "region", "sentence_type", "sentence_date")
        if getattr(args, flag) is None
    ]
    if missing:
        raise VcsError(
            "missing "
            + ", ".join("--" + m.replace("_", "-") for m in missing)
            + " (or give --json FILE)"
        )
    offences = []
    for text in args.offence or []:
        category, _, description = text.partition(":")
        offences.append({"category": category, "description": description or category})
    fields: dict[str, Any] = {
        "case_ref": args.case_ref,
        "provider": args.provider,
        "region": args.region,
        "responsible_vlo": args.vlo or by,
        "sentence_type": args.sentence_type,
        "term_months": args.term_months,
        "sentence_date": args.sentence_date,
        "mappa_category": args.mappa_category,
        "mappa_level": args.mappa_level,
        "offences": offences,
        "discretionary_reason": args.discretionary_reason,
        # Hospital paths (DVCVA ss 36-44A; models/hospital.py).
        "disposal": args.disposal,
        "finding": args.finding,
        "restricted": args.restricted,
        "restriction_ends_on": args.restriction_ends,
        "hospital_id": args.hospital,
    }
    fields.update({name: getattr(args, flag) for flag, name in MILESTONE_FLAGS.items()})
    return CaseRegistration.model_validate(fields)


# ---- hospital paths (DVCVA 2004 ss 36-44A; models/hospital.py) ----------------------------------

HOSPITAL_COMMANDS = (
    "add-hospital",
    "hospitals",
    "record-hospital",
    "record-remission",
    "record-discharge",
    "record-restriction",
    "record-tribunal-application",
    "notify-hospital",
)


def add_hospital_registration_flags(p: argparse.ArgumentParser) -> None:
    """register-case: the disposal and, for a hospital path, what the court found and ordered."""
    p.add_argument(
        "--disposal",
        choices=[x.value for x in DisposalKind],
        default=DisposalKind.CUSTODIAL.value,
        help="custodial (s 35), hospital_order (s 36), hospital_direction (s 39), "
        "transfer_direction (s 42)",
    )
    p.add_argument(
        "--finding",
        choices=[x.value for x in Finding],
        default=Finding.CONVICTED.value,
        help="what the court found (DVCVA s 36(1)(b))",
    )
    p.add_argument(
        "--restricted",
        action="store_true",
        help="with a restriction order (MHA s 41), limitation direction (s 45A) or "
        "restriction direction (s 49)",
    )
    p.add_argument(
        "--restriction-ends", type=parse_date, help="when the limitation/restriction ceases"
    )
    p.add_argument("--hospital", type=positive_id, help="the hospital (add-hospital) named")


def add_transfer_flags(p: argparse.ArgumentParser) -> None:
    """record-key-stage --stage transfer_to_hospital: the transfer direction (MHA s 47)."""
    p.add_argument(
        "--hospital", type=positive_id, help="transfer_to_hospital: the hospital (add-hospital)"
    )
    p.add_argument(
        "--restriction-direction",
        action="store_true",
        help="transfer_to_hospital: with a restriction direction (MHA 1983 s 49)",
    )
    p.add_argument(
        "--restriction-ends", type=parse_date, help="when the restriction direction ceases"
    )


def add_hospital_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    p = command("add-hospital", "record a hospital patients may be detained in (safe to repeat)")
    p.add_argument("--name", required=True)
    p.add_argument("--address", required=True)
    p.add_argument("--postcode")

    command("hospitals", "list the hospitals recorded")

    p = command(
        "record-hospital",
        "record the hospital a patient is detained in, moved to or readmitted to (the hospital "
        "managers are notified again: DVCVA s 36A / s 42A)",
    )
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--hospital", required=True, type=positive_id)
    p.add_argument("--date", required=True, type=parse_date)

    p = command(
        "record-remission", "record a patient's remission from hospital to prison (MHA s 50)"
    )
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--date", required=True, type=parse_date)

    p = command(
        "record-discharge",
        "record a discharge from hospital (conditions of discharge: record-conditions); an "
        "absolute discharge ends the order and the case",
    )
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--kind", required=True, choices=[x.value for x in DischargeKind])
    p.add_argument("--date", required=True, type=parse_date)

    p = command(
        "record-restriction",
        "record a restriction order or direction lifted (--lifted) or its end date varied "
        "(--ends-on): victims in the scheme are told (DVCVA s 37(4), (7))",
    )
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--date", required=True, type=parse_date)
    change = p.add_mutually_exclusive_group(required=True)
    change.add_argument("--lifted", action="store_true")
    change.add_argument("--ends-on", type=parse_date)

    p = command(
        "record-tribunal-application",
        "record a restricted patient's Mental Health Tribunal application or reference: "
        "victims in the scheme are told (DVCVA s 37(5), (7))",
    )
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--date", required=True, type=parse_date)

    p = command(
        "notify-hospital",
        "notify the hospital managers again of a victim's details (e.g. a new address)",
    )
    victim_flags(p)


async def record_transfer(vcs: Vcs, args: argparse.Namespace, by: str) -> ActionResult:
    if args.hospital is None:
        raise VcsError(
            "a transfer to hospital needs its transfer direction: give --hospital ID (and "
            "--restriction-direction if MHA 1983 s 49 applies)"
        )
    return await vcs.record_transfer_to_hospital(
        args.case_ref,
        args.hospital,
        args.date,
        args.restriction_direction,
        args.restriction_ends,
        by,
    )


async def run_hospital(
    vcs: Vcs, args: argparse.Namespace, by: str, out: Callable[[str], None]
) -> None:
    match args.command:
        case "add-hospital":
            hospital = HospitalBase(name=args.name, address=args.address, postcode=args.postcode)
            hospital_id, created = vcs.add_hospital(hospital, by)
            out(f"hospital {hospital_id} {'recorded' if created else 'already recorded'}")
        case "hospitals":
            rows = hospitals(vcs.engine)
            if not rows:
                out("no hospitals recorded")
            for row in rows:
                out(f"hospital {row.id}: {row.name} {row.postcode or ''}".rstrip())
        case "record-hospital":
            result = await vcs.record_hospital(args.case_ref, args.hospital, args.date, by)
            out(result.message)
        case "record-remission":
            out((await vcs.record_remission(args.case_ref, args.date, by)).message)
        case "record-discharge":
            result = await vcs.record_discharge(
                args.case_ref, DischargeKind(args.kind), args.date, by
            )
            out(result.message)
        case "record-restriction":
            result = await vcs.record_restriction_change(
                args.case_ref, args.date, by, lifted=args.lifted, ends_on=args.ends_on
            )
            out(result.message)
        case "record-tribunal-application":
            out((await vcs.record_tribunal_application(args.case_ref, args.date, by)).message)
        case "notify-hospital":
            out((await vcs.notify_hospital(args.victim, by)).message)


PAROLE_COMMANDS = (
    "refer-parole",
    "submit-vps",
    "parole-representations",
    "apply-to-read",
    "read-decision",
    "set-hearing",
    "adjourn",
    "parole-decision",
    "decision-summary",
    "parole-show",
)


def add_parole_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Parole Board reviews (workflows/parole.py; domain.md 'Parole'). Commands about one
    victim find the review from the victim's case; each takes --review to name an older one."""

    def review(p: argparse.ArgumentParser) -> None:
        p.add_argument("--review", help="the review's ID (default: the case's latest)")

    p = command(
        "refer-parole",
        "record a referral to the Parole Board: every victim in the scheme is invited to make "
        "a VPS and representations by the Board's deadline",
    )
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--referred-on", required=True, type=parse_date)
    p.add_argument(
        "--vps-due", required=True, type=parse_date, help="the Board's deadline for statements"
    )
    p.add_argument("--hearing", type=parse_date, help="the hearing date, if listed")
    p.add_argument("--paper", action="store_true", help="decided on the papers, no oral hearing")

    p = command(
        "submit-vps",
        "record a victim's Victim Personal Statement (stored encrypted) and send it to the Board",
    )
    victim_flags(p)
    p.add_argument("--file", required=True, help="the statement: a VPS is always in writing")
    p.add_argument(
        "--checked",
        action="store_true",
        help="you have read it: it does not say whether the prisoner should be released",
    )
    review(p)

    p = command(
        "parole-representations",
        "record a victim's representations on licence conditions for the Parole Board",
    )
    victim_flags(p)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--text")
    source.add_argument("--file")
    review(p)

    p = command(
        "apply-to-read", "record a victim's application to read their VPS at the oral hearing"
    )
    victim_flags(p)
    review(p)

    p = command("read-decision", "record the Board's decision on an application to read a VPS")
    victim_flags(p)
    verdict = p.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--granted", action="store_true")
    verdict.add_argument("--refused", action="store_true")
    review(p)

    p = command("set-hearing", "record the date the Board hears (or decides on the papers)")
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--date", required=True, type=parse_date)
    p.add_argument("--paper", action="store_true", help="decided on the papers, no oral hearing")
    review(p)

    p = command("adjourn", "record an adjourned or deferred hearing: every timer moves with it")
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument(
        "--hearing",
        type=parse_date,
        help="the new hearing date (none: a review deferred before its hearing is listed, "
        "with --vps-due)",
    )
    p.add_argument("--vps-due", type=parse_date, help="a new deadline, if the Board set one")
    review(p)

    p = command(
        "parole-decision", "record the Board's decision: every victim in the scheme is told"
    )
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--outcome", required=True, choices=[x.value for x in ParoleOutcome])
    p.add_argument("--date", required=True, type=parse_date, help="when the Board decided")
    p.add_argument("--next-review", type=parse_date, help="no release: when the next review is")
    review(p)

    p = command("decision-summary", "a victim asks for a summary of the Board's reasons")
    victim_flags(p)
    review(p)

    p = command("parole-show", "where a case's parole review stands")
    p.add_argument("--case", required=True, dest="case_ref")
    review(p)


async def run_parole(
    vcs: Vcs, args: argparse.Namespace, by: str, out: Callable[[str], None]
) -> None:
    review = args.review if "review" in args else None
    match args.command:
        case "refer-parole":
            timetable = ParoleTimetable(
                referred_on=args.referred_on,
                vps_due_on=args.vps_due,
                hearing_on=args.hearing,
                oral_hearing=not args.paper,
            )
            out((await vcs.refer_parole(args.case_ref, timetable, by)).message)
        case "submit-vps":
            if not args.checked:
                raise VcsError(
                    "a VPS must not say whether the prisoner should be released: read it, then "
                    "confirm with --checked that it does not"
                )
            text = read_text(args.file)
            out((await vcs.submit_vps(args.victim, text, True, by, review)).message)
            words = len(text.split())
            if words > READ_ALOUD_WORDS:
                out(f"note: {words} words; a VPS should take under 10 minutes to read aloud")
        case "parole-representations":
            text = args.text if args.text is not None else read_text(args.file)
            out((await vcs.submit_parole_representations(args.victim, text, by, review)).message)
        case "apply-to-read":
            out((await vcs.apply_to_read(args.victim, by, review)).message)
        case "read-decision":
            result = await vcs.record_read_decision(args.victim, args.granted, by, review)
            out(result.message)
        case "set-hearing":
            result = await vcs.set_hearing(args.case_ref, args.date, not args.paper, by, review)
            out(result.message)
        case "adjourn":
            result = await vcs.adjourn_hearing(
                args.case_ref, args.hearing, args.vps_due, by, review
            )
            out(result.message)
        case "parole-decision":
            result = await vcs.record_parole_decision(
                args.case_ref, ParoleOutcome(args.outcome), args.date, args.next_review, by, review
            )
            out(result.message)
        case "decision-summary":
            out((await vcs.request_decision_summary(args.victim, by, review)).message)
        case "parole-show":
            for line in describe_parole(await vcs.parole_view(args.case_ref, review)):
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


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="starter.py",
        description="Victim Contact Scheme: the victim liaison officer's tool.",
        epilog="Dates are YYYY-MM-DD. Temporal connection: TEMPORAL_ADDRESS / envconfig profile; "
        "case database: VCS_DATABASE_URL (default: SQLite under data/).",
    )
    parser.add_argument("--by", default=None, help="who is acting (default: $VCS_VLO or $USER)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text)

    p = command("register-case", "register an eligible case and start its workflow")
    p.add_argument("--json", metavar="FILE", help="the whole case as a JSON document (see README)")
    p.add_argument("--case-ref")
    p.add_argument("--region")
    p.add_argument("--vlo", help="responsible VLO (default: --by)")
    p.add_argument("--provider", choices=[x.value for x in Provider], default=Provider.NPS.value)
    p.add_argument("--sentence-type", choices=[x.value for x in SentenceType])
    p.add_argument("--term-months", type=int, help="custodial term (omit for indeterminate)")
    p.add_argument("--sentence-date", type=parse_date)
    for flag, name in MILESTONE_FLAGS.items():
        p.add_argument(f"--{flag.replace('_', '-')}", type=parse_date, help=name.replace("_", " "))
    p.add_argument(
        "--offence",
        action="append",
        metavar="CATEGORY:DESCRIPTION",
        help=f"repeatable; categories: {', '.join(c.value for c in OffenceCategory)}",
    )
    p.add_argument("--mappa-category", type=int, choices=[1, 2, 3])
    p.add_argument("--mappa-level", type=int, choices=[1, 2, 3])
    p.add_argument(
        "--discretionary-reason", help="take a case outside the statute, with the reason"
    )
    add_hospital_registration_flags(p)

    p = command("add-victim", "add a victim (or a bereaved family's representative) to a case")
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--name", required=True)
    p.add_argument("--address")
    p.add_argument("--postcode")
    p.add_argument("--email")
    p.add_argument("--phone")
    p.add_argument("--channel", choices=[x.value for x in Channel], default=Channel.LETTER.value)
    p.add_argument(
        "--language", choices=[x.value for x in Language], default=Language.ENGLISH.value
    )
    p.add_argument("--represents", help="for a family representative: whom they speak for")

    p = command("opt-in", "record that a victim joins the scheme")
    victim_flags(p)
    p.add_argument("--level", required=True, choices=[x.value for x in ContactLevel])

    p = command("opt-out", "record that a victim does not want (or no longer wants) contact")
    victim_flags(p)

    p = command(
        "submit-representations",
        "record a victim's representations on licence conditions and forward them",
    )
    victim_flags(p)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--text")
    source.add_argument("--file")

    p = command(
        "record-conditions",
        "record licence conditions imposed (victims told the victim-related ones)",
    )
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--json", metavar="FILE", help="a list of conditions as JSON (see README)")
    p.add_argument("--kind", choices=[x.value for x in ConditionKind])
    p.add_argument("--description")
    p.add_argument("--victim-related", action=argparse.BooleanOptionalAction)
    p.add_argument("--starts", type=parse_date)
    p.add_argument("--ends", type=parse_date)

    p = command("record-milestones", "record recalculated sentence dates (timers follow them)")
    p.add_argument("--case", required=True, dest="case_ref")
    for flag, name in MILESTONE_FLAGS.items():
        p.add_argument(f"--{flag.replace('_', '-')}", type=parse_date, help=name.replace("_", " "))

    p = command("record-release", "record the offender's release on licence")
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--date", required=True, type=parse_date)

    p = command(
        "record-key-stage",
        "record a key stage (temporary release, open conditions, recall, escape, absconding, "
        "returned to custody, death, ...); an escape or absconding raises an urgent task",
    )
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--stage", required=True, choices=[x.value for x in KeyStage])
    p.add_argument("--date", required=True, type=parse_date)
    add_transfer_flags(p)

    p = command("victims", "list a case's victims and where each stands")
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--with-names", action="store_true", help="show names (authorised VLOs only)")

    p = command("tasks", "list open VLO tasks of a case, or of a VLO")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--case", dest="case_ref")
    who.add_argument("--vlo")

    p = command("complete-task", "complete a VLO task")
    p.add_argument("--task", required=True, type=positive_id)
    p.add_argument("--case", dest="case_ref", help="the task's case: refused if it is another's")
    p.add_argument("--outcome", default="done")

    p = command("timeline", "what has happened on a case and what is scheduled next")
    p.add_argument("--case", required=True, dest="case_ref")

    p = command("dhr", "record a direction to take part in a domestic homicide review (DVCVA s 9)")
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--directed-on", required=True, type=parse_date)
    p.add_argument("--due", required=True, type=parse_date, help="when our part is due")
    p.add_argument(
        "--reviewed-by", default="community safety partnership", help="who directed the review"
    )

    p = command("audit-export", "write a case's audit trail, with its hash chain, as JSON Lines")
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--out", metavar="FILE", help="the file to write (default: standard output)")

    p = command(
        "audit-verify",
        "check a case's audit trail has not been altered (exit 2 names the first broken entry)",
    )
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument(
        "--against", metavar="FILE", help="an earlier audit-export: every entry must still be there"
    )

    p = command(
        "record-supplied",
        "record information another agency supplied, and its consent to onward disclosure",
    )
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--agency", required=True, help="the supplying agency")
    p.add_argument("--category", required=True, choices=[x.value for x in InformationCategory])
    p.add_argument("--received-on", required=True, type=parse_date)
    p.add_argument(
        "--consent", choices=[x.value for x in OnwardConsent], default=OnwardConsent.NONE.value
    )
    p.add_argument(
        "--consent-to", action="append", metavar="AGENCY", help="repeatable: a consented agency"
    )
    p.add_argument("--consent-ref", help="the reference of the agency's written consent")

    p = command(
        "disclose",
        "record a disclosure to another agency (refused unless every sharing rule allows it)",
    )
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--to", required=True, dest="recipient", help="the recipient agency")
    p.add_argument("--recipient-kind", required=True, choices=[x.value for x in RecipientKind])
    p.add_argument("--basis", choices=[x.value for x in LawfulBasis], help="the lawful basis")
    p.add_argument("--purpose", default="")
    p.add_argument(
        "--share",
        action="append",
        choices=[x.value for x in InformationCategory],
        help="repeatable: a category of our own information shared",
    )
    p.add_argument(
        "--supplied",
        action="append",
        type=positive_id,
        metavar="ID",
        help="repeatable: supplied information (record-supplied) passed on",
    )
    p.add_argument("--victim", type=positive_id, help="the victim whose information is shared")
    p.add_argument("--victim-consent", help="the reference of the victim's recorded consent")

    p = command("disclosures", "list the disclosures recorded on a case")
    p.add_argument("--case", required=True, dest="case_ref")

    add_parole_commands(command)
    add_hospital_commands(command)

    command("demo", "register the demonstration case with two victims (safe to re-run)")

    p = command(
        "handoff",
        "hand a case to another provider/region/VLO: request, supply, accept, withdraw, show",
    )
    p.add_argument("action", choices=["request", "supply", "accept", "withdraw", "show"])
    p.add_argument("--case", dest="case_ref", help="the case (its latest hand-off if no --handoff)")
    p.add_argument("--handoff", help="the hand-off's ID (vcs-handoff-<case>-<n>)")
    p.add_argument("--reason", choices=[x.value for x in HandoffReason])
    p.add_argument("--to-provider", choices=[x.value for x in Provider])
    p.add_argument("--to-region")
    p.add_argument("--to-vlo")
    p.add_argument(
        "--why",
        choices=[r.value for r in WithdrawalReason if r is not WithdrawalReason.HANDOFF_FAILED],
        help="withdraw: why (the receiving provider refusing the case: refused_by_receiver)",
    )

    p = command("crc-event", "a CRC reports a key event of a case it supervises to the NPS VLO")
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--kind", required=True, choices=[x.value for x in CrcEventKind])
    p.add_argument("--date", required=True, type=parse_date, help="when the event happened")

    p = command(
        "bulk-transfer",
        "move every open case of one provider to another (2021 unification): "
        "start, pause, resume, progress",
    )
    p.add_argument("action", choices=["start", "pause", "resume", "progress"])
    p.add_argument("--id", required=True, dest="bulk_id", help="names the operation")
    p.add_argument("--from-provider", choices=[x.value for x in Provider])
    p.add_argument("--to-provider", choices=[x.value for x in Provider])
    p.add_argument("--to-vlo", help="new responsible VLO (default: each case keeps its VLO)")
    p.add_argument("--page-size", type=int, default=50)
    p.add_argument(
        "--paused", action="store_true", help="start paused: nothing moves until it is resumed"
    )

    p = command(
        "schedules",
        "the scheduled jobs (daily task reconciliation, retention): list, pause, resume, run now",
    )
    p.add_argument("action", choices=["list", "pause", "unpause", "trigger"])
    p.add_argument(
        "name",
        nargs="?",
        choices=list(schedules.JOBS),
        metavar="NAME",
        help=f"the job: {' or '.join(schedules.JOBS)} (all of them for list)",
    )
    return parser


def conditions_from(args: argparse.Namespace) -> list[LicenceConditionBase]:
    if args.json:
        data = read_json(args.json)
        if not isinstance(data, list):
            raise VcsError(f"{args.json} must hold a JSON list of conditions")
        return [strict(LicenceConditionBase, item, args.json) for item in data]
    missing = [
        f for f in ("kind", "description", "victim_related", "starts") if getattr(args, f) is None
    ]
    if missing:
        raise VcsError(
            "missing "
            + ", ".join("--" + m.replace("_", "-") for m in missing)
            + " (or give --json FILE)"
        )
    return [
        LicenceConditionBase(
            kind=ConditionKind(args.kind),
            description=args.description,
            victim_related=args.victim_related,
            starts_on=args.starts,
            ends_on=args.ends,
        )
    ]


async def dispatch(vcs: Vcs, args: argparse.Namespace, by: str, out: Callable[[str], None]) -> None:
    if getattr(args, "victim", None) is not None:
        victim_on_case(vcs.engine, args.victim, args.case_ref)
    match args.command:
        case "register-case":
            case_wf, _, created = await vcs.register_case(registration_from(args, by), by)
            out(f"{'registered' if created else 'already registered'}: case workflow {case_wf}")
        case "add-victim":
            victim = VictimBase(
                full_name=args.name,
                address=args.address,
                postcode=args.postcode,
                email=args.email,
                phone=args.phone,
                preferred_channel=Channel(args.channel),
                language=Language(args.language),
                represents=args.represents,
            )
            victim_id, workflow_id = await vcs.add_victim(args.case_ref, victim, by)
            # The victim's workflow opens the offer task, due as the Victims' Code requires.
            due = offer_due(case_by_ref(vcs.engine, args.case_ref).sentence_date, current_policy())
            late = " (already overdue: contact the victim now)" if due < await vcs.today() else ""
            out(f"victim {victim_id} added: workflow {workflow_id}; offer task due {due}{late}")
        case "opt-in":
            out((await vcs.opt_in(args.victim, ContactLevel(args.level), by)).message)
        case "opt-out":
            out((await vcs.opt_out(args.victim, by)).message)
        case "submit-representations":
            text = args.text if args.text is not None else read_text(args.file)
            out((await vcs.submit_representations(args.victim, text, by)).message)
        case "record-conditions":
            out((await vcs.record_conditions(args.case_ref, conditions_from(args), by)).message)
        case "record-milestones":
            changes = {
                name: getattr(args, flag)
                for flag, name in MILESTONE_FLAGS.items()
                if getattr(args, flag)
            }
            if not changes:
                raise VcsError("give at least one milestone date to record")
            out((await vcs.record_milestones(args.case_ref, changes, by)).message)
        case "record-release":
            out((await vcs.record_release(args.case_ref, args.date, by)).message)
        case "record-key-stage" if args.stage == KeyStage.TRANSFER_TO_HOSPITAL.value:
            out((await record_transfer(vcs, args, by)).message)  # the s 42 path switch
        case "record-key-stage":
            if args.hospital is not None or args.restriction_direction:
                raise VcsError(
                    "--hospital and --restriction-direction go with transfer_to_hospital"
                )
            out(
                (
                    await vcs.record_key_stage(args.case_ref, KeyStage(args.stage), args.date, by)
                ).message
            )
        case "victims":
            for row, enrolment in victims_of(vcs.engine, args.case_ref):
                name = f"  {row.full_name}" if args.with_names else ""
                stage = enrolment.stage.value if enrolment else "starting"
                level = enrolment.contact_level if enrolment and enrolment.contact_level else "-"
                channel = row.preferred_channel.value
                out(f"victim {row.id}: {stage:<12} level {level:<15} by {channel}{name}")
        case "tasks":
            rows = open_tasks(vcs.engine, case_ref=args.case_ref, assigned_to=args.vlo)
            if not rows:
                out("no open tasks")
            for task, case_ref in rows:
                whose = f"victim {task.victim_id}" if task.victim_id else "case"
                where = f"{case_ref} {whose}  [{task.assigned_to}]"
                out(f"task {task.id}: due {task.due_on}  {where}  {task.title}")
        case "complete-task":
            if args.case_ref is not None:
                task_on_case(vcs.engine, args.task, args.case_ref)
            out((await vcs.complete_task(args.task, by, args.outcome)).message)
        case "timeline":
            await print_timeline(vcs, args.case_ref, out)
        case "dhr":
            result = await vcs.record_dhr_direction(
                args.case_ref, args.reviewed_by, args.directed_on, args.due, by
            )
            out(result.message)
        case "audit-export":
            run_audit_export(vcs.engine, args.case_ref, args.out, out)
        case "audit-verify":
            run_audit_verify(vcs.engine, args.case_ref, args.against, out)
        case "record-supplied":
            supplied = SuppliedRequest(
                supplying_agency=args.agency,
                category=InformationCategory(args.category),
                received_on=args.received_on,
                onward_consent=OnwardConsent(args.consent),
                consented_agencies=args.consent_to or [],
                written_consent_ref=args.consent_ref,
            )
            supplied_id = record_supplied(vcs.engine, args.case_ref, supplied, by)
            out(f"supplied information {supplied_id} recorded")
        case "disclose":
            request = DisclosureRequest(
                recipient_agency=args.recipient,
                recipient_kind=RecipientKind(args.recipient_kind),
                lawful_basis=LawfulBasis(args.basis) if args.basis else None,
                purpose=args.purpose,
                own_categories=[InformationCategory(c) for c in args.share or []],
                supplied_ids=args.supplied or [],
                victim_id=args.victim,
                victim_consent_ref=args.victim_consent,
            )
            disclosure_id = disclose(vcs.engine, args.case_ref, request, by)
            out(f"disclosure {disclosure_id} recorded and audited")
        case "disclosures":
            records = disclosures_of(vcs.engine, args.case_ref)
            if not records:
                out("no disclosures recorded")
            for record in records:
                d = record.disclosure
                shared = ", ".join(
                    i.category.value + (f" (supplied {i.supplied_id})" if i.supplied_id else "")
                    for i in record.items
                )
                whose = f" victim {d.victim_id}" if d.victim_id else ""
                out(
                    f"disclosure {d.id}: {d.disclosed_at:%Y-%m-%d %H:%M} to {d.recipient_agency} "
                    f"({d.recipient_kind.value}) under {d.lawful_basis.value} by "
                    f"{d.disclosed_by}:{whose} {shared}; purpose: {d.purpose}"
                )
        case command if command in PAROLE_COMMANDS:
            await run_parole(vcs, args, by, out)
        case command if command in HOSPITAL_COMMANDS:
            await run_hospital(vcs, args, by, out)
        case "demo":
            await run_demo(vcs, by, out)
        case "schedules":
            await run_schedules(vcs, args.action, args.name, by, out)
        case "handoff":
            await run_handoff(vcs, args, by, out)
        case "crc-event":
            result = await vcs.report_crc_event(
                args.case_ref, CrcEventKind(args.kind), args.date, by
            )
            out(result.message)
        case "bulk-transfer":
            await run_bulk_transfer(vcs, args, by, out)


async def run_handoff(
    vcs: Vcs, args: argparse.Namespace, by: str, out: Callable[[str], None]
) -> None:
    if args.action == "request":
        missing = [
            "--" + f.replace("_", "-")
            for f in ("case_ref", "reason", "to_provider", "to_region", "to_vlo")
            if getattr(args, f) is None
        ]
        if missing:
            raise VcsError(f"handoff request needs {', '.join(missing)}")
        result = await vcs.request_handoff(
            args.case_ref,
            HandoffReason(args.reason),
            Provider(args.to_provider),
            args.to_region,
            args.to_vlo,
            by,
        )
        out(result.message)
        return
    if args.handoff is None and args.case_ref is None:
        raise VcsError(f"handoff {args.action} needs --handoff ID or --case REF")
    handoff_id = vcs.handoff_of(args.handoff, args.case_ref)
    if args.action == "supply":
        out((await vcs.handoff_supply(handoff_id, by)).message)
    elif args.action == "accept":
        out((await vcs.handoff_accept(handoff_id, by)).message)
    elif args.action == "withdraw":
        if args.why is None:
            reasons = ", ".join(r.value for r in WithdrawalReason if r.value != "handoff_failed")
            raise VcsError(f"handoff withdraw needs --why: one of {reasons}")
        out((await vcs.handoff_withdraw(handoff_id, WithdrawalReason(args.why), by)).message)
    else:
        view = await vcs.handoff_view(handoff_id)
        out(
            f"{view.handoff_id} ({view.reason.value}{', bulk' if view.bulk else ''}): "
            f"{view.sender.describe()} -> {view.receiver.describe()}"
        )
        due = f", due {view.step_due_on}" if view.step_due_on else ""
        out(f"  step {view.step.value}; waiting for {view.waiting_for}{due}")
        for e in view.escalations:
            out(f"  escalated: {e.step.value} level {e.level} (task {e.task_id}, due {e.due_on})")
        for line in view.history:
            out(f"  {line}")


async def run_bulk_transfer(
    vcs: Vcs, args: argparse.Namespace, by: str, out: Callable[[str], None]
) -> None:
    if args.action == "start":
        if args.from_provider is None or args.to_provider is None:
            raise VcsError("bulk-transfer start needs --from-provider and --to-provider")
        if args.page_size < 1:
            raise VcsError("--page-size must be at least 1")
        workflow_id = await vcs.bulk_start(
            args.bulk_id,
            Provider(args.from_provider),
            Provider(args.to_provider),
            by,
            to_vlo=args.to_vlo,
            page_size=args.page_size,
            paused=args.paused,
        )
        how = "started paused (bulk-transfer resume --id ...)" if args.paused else "started"
        out(f"bulk transfer {how}: workflow {workflow_id} (bulk-transfer progress --id ...)")
    elif args.action == "pause":
        out((await vcs.bulk_pause(args.bulk_id, by)).message)
    elif args.action == "resume":
        out((await vcs.bulk_resume(args.bulk_id, by)).message)
    else:
        p = await vcs.bulk_progress(args.bulk_id)
        state = "finished" if p.finished else "paused" if p.paused else "running"
        remaining = "?" if p.remaining is None else str(p.remaining)
        out(
            f"bulk transfer {p.bulk_id} {p.from_provider.value} -> {p.to_provider.value}: "
            f"{state}; done {p.done}, skipped {p.skipped}, failed {p.failed}, "
            f"withdrawn {p.withdrawn}, remaining {remaining}, in flight {p.in_flight}, "
            f"waiting {len(p.waiting)}"
        )
        if p.failures:
            out(f"  failed cases: {', '.join(p.failures)}")
        for w in p.waiting:
            task = f"; escalated as task {w.escalation_task_id}" if w.escalation_task_id else ""
            out(f"  waiting since {w.since}: case {w.case_ref}, hand-off {w.handoff_id}{task}")


async def run_schedules(
    vcs: Vcs, action: str, name: str | None, by: str, out: Callable[[str], None]
) -> None:
    if action == "list":
        names = [name] if name else list(schedules.JOBS)
        for status in [await schedules.describe(vcs.client, n) for n in names]:
            job = status.job
            state = "paused" if status.paused else "active"
            line = f"{job.name:<15} {job.schedule_id:<25} {state:<7} {job.when}"
            if status.next_run and not status.paused:
                line += f"; next {status.next_run:%Y-%m-%d %H:%M} UTC"
            if status.last_run:
                line += f"; last {status.last_run:%Y-%m-%d %H:%M} UTC ({status.last_workflow_id})"
            if status.running:
                line += "; running now"
            if status.note:
                line += f"; note: {status.note}"
            out(line)
        return
    if name is None:
        raise VcsError(f"schedules {action} needs a NAME: {' or '.join(schedules.JOBS)}")
    if action == "pause":
        job = await schedules.pause(vcs.client, name, by)
        out(f"{job.name} ({job.schedule_id}) paused: no run starts until it is unpaused")
    elif action == "unpause":
        job = await schedules.unpause(vcs.client, name, by)
        out(f"{job.name} ({job.schedule_id}) unpaused: next run {job.when}")
    else:
        job = await schedules.trigger(vcs.client, name)
        out(f"{job.name} ({job.schedule_id}) triggered: a run starts now (schedules list)")


def run_audit_export(
    engine: Engine, case_ref: str, path: str | None, out: Callable[[str], None]
) -> None:
    """JSON Lines, one entry a line, with the hashes; the summary names the chain's head."""
    lines, report = audit_export(engine, case_ref)
    text = [json.dumps(line, ensure_ascii=False, sort_keys=True) for line in lines]
    state = (
        "chain intact"
        if report.broken is None
        else f"chain BROKEN at entry {report.broken.entry_id}: {report.broken.problem}"
    )
    if path is None:
        for line in text:
            out(line)
        return
    try:
        Path(path).write_text("".join(t + "\n" for t in text), encoding="utf-8")
    except OSError as err:
        raise VcsError(f"cannot write {path}: {err.strerror}") from None
    out(f"{len(text)} audit entries of case {case_ref} written to {path}; {state}")
    if report.head_hash:
        out(f"chain head {report.head_hash} (keep it elsewhere to anchor the chain)")


def run_audit_verify(
    engine: Engine, case_ref: str, against: str | None, out: Callable[[str], None]
) -> None:
    exported = None
    if against is not None:
        exported = []
        for number, line in enumerate(read_text(against).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                raise VcsError(f"{against} line {number} is not JSON") from None
            if not isinstance(item, dict) or item.get("case_ref") != case_ref:
                raise VcsError(f"{against} line {number} is not an entry of case {case_ref}")
            exported.append(item)
    report = audit_verify(engine, case_ref, exported)
    if report.broken is not None:
        raise VcsError(
            f"audit trail of case {case_ref} is broken at entry {report.broken.entry_id} "
            f"(sequence {report.broken.sequence}): it {report.broken.problem}"
        )
    anchored = f", and matches {against}" if against else ""
    out(
        f"audit trail of case {case_ref} is intact: {report.entries} entries{anchored}; "
        f"head {report.head_hash or '-'}"
    )


def read_text(path: str) -> str:
    """Every file a VLO names is read here: one line on failure, never its contents."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise VcsError(f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise VcsError(
            f"{path} is not UTF-8 text (byte {err.start + 1} cannot be read): save it as "
            "UTF-8 (in Word: Save As, Plain Text, Unicode UTF-8) and try again"
        ) from None


async def print_timeline(vcs: Vcs, case_ref: str, out: Callable[[str], None]) -> None:
    audit, letters = history(vcs.engine, case_ref)
    events = [
        (
            e.at,
            f"{e.action}: {readable(e.detail)}".rstrip(": ")
            + (f" (victim {e.victim_id})" if e.victim_id else "")
            + f" [{e.actor}]",
        )
        for e in audit
    ]
    events += [
        (
            c.created_at,
            f"letter {c.kind.value} queued for victim {c.victim_id} by {c.channel.value}"
            + delivery_words(c),
        )
        for c in letters
    ]
    out(f"case {case_ref}: what happened")
    for at, text in sorted(events, key=lambda e: e[0]):
        out(f"  {at:%Y-%m-%d %H:%M}  {text}")
    out("scheduled next")
    view = await vcs.case_view(case_ref)
    scheduled = [(s.on, f"case: {s.what}") for s in view.scheduled]
    if view.open_parole_review is not None:
        parole = await vcs.parole_view(case_ref, view.open_parole_review)
        scheduled += [(on, f"parole review: {what}") for on, what in parole.scheduled]
    for victim_id, _ in victims_of(vcs.engine, case_ref):
        if victim_id.id is None:
            continue
        try:
            victim_view = await vcs.victim_view(victim_id.id)
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            out(f"  victim {victim_id.id}: workflow not running (closed or never started)")
            continue
        scheduled += [(s.on, f"victim {victim_id.id}: {s.what}") for s in victim_view.scheduled]
    for on, text in sorted(scheduled):
        out(f"  {on}  {text}")


async def run_demo(vcs: Vcs, by: str, out: Callable[[str], None]) -> None:
    """Register the demonstration cases and their victims; a re-run finds them all in place."""
    demo = [
        (DEMO_CASE, DEMO_VICTIMS),
        (DEMO_OVERDUE_CASE, [DEMO_OVERDUE_VICTIM]),
    ]
    for case, victims in demo:
        registration = CaseRegistration.model_validate(case)
        case_wf, _, created = await vcs.register_case(registration, by)
        status = "registered" if created else "already registered"
        out(f"case {registration.case_ref} {status}: workflow {case_wf}")
        for victim in victims:
            victim_id, workflow_id = await vcs.ensure_victim(registration.case_ref, victim, by)
            out(f"  victim {victim_id}: workflow {workflow_id}")


def acting_vlo(args: argparse.Namespace) -> str:
    return args.by or os.environ.get("VCS_VLO") or os.environ.get("USER") or "vlo"


async def run(
    argv: Sequence[str], vcs: Vcs | None = None, out: Callable[[str], None] = print
) -> int:
    """Run one command. Exit status: 0 done, 2 refused (nothing changed), 3 unreachable,
    141 the reader of the output went away (`| head`), as for any Unix tool."""
    try:
        return await run_command(argv, vcs, out)
    except BrokenPipeError:
        return READER_GONE
    except SystemExit as done:  # argparse: --help (0), or a refusal it printed as one line
        return done.code if isinstance(done.code, int) else 2


async def run_command(argv: Sequence[str], vcs: Vcs | None, out: Callable[[str], None]) -> int:
    args = build_parser().parse_args(argv)
    by = acting_vlo(args)
    try:
        if vcs is None:
            engine = make_engine()
            create_tables(engine)
            vcs = Vcs(await connect(), engine)
        await dispatch(vcs, args, by, out)
    except UnavailableError as err:
        print(f"error: {err}", file=sys.stderr)
        return 3
    except VcsError as err:
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


def main() -> None:
    code = asyncio.run(run(sys.argv[1:]))
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = READER_GONE
    sys.stderr.flush()
    # Skip interpreter teardown: the Temporal client's native threads can abort it at exit,
    # which would turn a clean result into a crash report.
    os._exit(code)


if __name__ == "__main__":
    main()
