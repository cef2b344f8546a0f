"""Commands on a case: register it, its licence conditions, recalculated dates, release, key
stages (with a transfer to hospital) and a domestic homicide review."""

import argparse
from typing import Any

from cli.common import (
    Command,
    Out,
    case_flag,
    parse_date,
    positive_id,
    read_json,
    read_text,
    strict,
    text_file_flag,
)
from models.case import CaseRegistration
from models.errors import VcsError
from models.records import LicenceConditionBase
from models.vocabulary import (
    ConditionKind,
    DisposalKind,
    Finding,
    KeyStage,
    OffenceCategory,
    Provider,
    SentenceType,
)
from service.actor import Actor
from service.vcs import Vcs

MILESTONE_FLAGS = {
    "ped": "parole_eligibility_date",
    "hdc": "home_detention_curfew_date",
    "crd": "conditional_release_date",
    "led": "licence_expiry_date",
    "sed": "sentence_expiry_date",
    "pss_end": "post_sentence_supervision_end_date",
}


def milestone_flags(p: argparse.ArgumentParser) -> None:
    for flag, name in MILESTONE_FLAGS.items():
        p.add_argument(f"--{flag.replace('_', '-')}", type=parse_date, help=name.replace("_", " "))


def missing_flags(args: argparse.Namespace, names: tuple[str, ...]) -> None:
    missing = [n for n in names if getattr(args, n) is None]
    if missing:
        raise VcsError(
            "missing "
            + ", ".join("--" + m.replace("_", "-") for m in missing)
            + " (or give --json FILE)"
        )


def registration_from(args: argparse.Namespace, actor: Actor) -> CaseRegistration:
    if args.json:
        return strict(CaseRegistration, read_json(args.json), args.json)
    if args.disposal == DisposalKind.HOSPITAL_ORDER.value and args.sentence_type is None:
        args.sentence_type = SentenceType.HOSPITAL_ORDER.value  # made instead of a sentence
    missing_flags(args, ("case_ref", "region", "sentence_type", "sentence_date"))
    offences = []
    for text in args.offence or []:
        category, _, description = text.partition(":")
        offences.append({"category": category, "description": description or category})
    reason = args.discretionary_reason_file
    fields: dict[str, Any] = {
        "case_ref": args.case_ref,
        "provider": args.provider,
        "region": args.region,
        "responsible_vlo": args.vlo or actor.id,
        "sentence_type": args.sentence_type,
        "term_months": args.term_months,
        "sentence_date": args.sentence_date,
        "mappa_category": args.mappa_category,
        "mappa_level": args.mappa_level,
        "offences": offences,
        "discretionary_reason": read_text(reason).strip() if reason else None,
        # Hospital paths (DVCVA ss 36-44A; models/hospital.py).
        "disposal": args.disposal,
        "finding": args.finding,
        "restricted": args.restricted,
        "restriction_ends_on": args.restriction_ends,
        "hospital_id": args.hospital,
    }
    fields.update({name: getattr(args, flag) for flag, name in MILESTONE_FLAGS.items()})
    return CaseRegistration.model_validate(fields)


def conditions_from(args: argparse.Namespace) -> list[LicenceConditionBase]:
    if args.json:
        data = read_json(args.json)
        if not isinstance(data, list):
            raise VcsError(f"{args.json} must hold a JSON list of conditions")
        return [strict(LicenceConditionBase, item, args.json) for item in data]
    missing_flags(args, ("kind", "text_file", "victim_related", "starts"))
    return [
        LicenceConditionBase(
            kind=ConditionKind(args.kind),
            description=read_text(args.text_file).strip(),
            victim_related=args.victim_related,
            starts_on=args.starts,
            ends_on=args.ends,
        )
    ]


async def register(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    case_wf, _, created = await vcs.register_case(registration_from(args, actor), actor)
    out(f"{'registered' if created else 'already registered'}: case workflow {case_wf}")


async def conditions(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    out((await vcs.record_conditions(args.case_ref, conditions_from(args), actor)).message)


async def milestones(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    changes = {
        name: getattr(args, flag) for flag, name in MILESTONE_FLAGS.items() if getattr(args, flag)
    }
    if not changes:
        raise VcsError("give at least one milestone date to record")
    out((await vcs.record_milestones(args.case_ref, changes, actor)).message)


async def release(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    out((await vcs.record_release(args.case_ref, args.date, actor)).message)


async def key_stage(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    if args.stage == KeyStage.TRANSFER_TO_HOSPITAL.value:  # the s 42 path switch
        if args.hospital is None:
            raise VcsError(
                "a transfer to hospital needs its transfer direction: give --hospital ID (and "
                "--restriction-direction if MHA 1983 s 49 applies)"
            )
        result = await vcs.record_transfer_to_hospital(
            args.case_ref,
            args.hospital,
            args.date,
            args.restriction_direction,
            args.restriction_ends,
            actor,
        )
    else:
        if args.hospital is not None or args.restriction_direction:
            raise VcsError("--hospital and --restriction-direction go with transfer_to_hospital")
        result = await vcs.record_key_stage(args.case_ref, KeyStage(args.stage), args.date, actor)
    out(result.message)


async def dhr(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    result = await vcs.record_dhr_direction(
        args.case_ref, args.reviewed_by, args.directed_on, args.due, actor
    )
    out(result.message)


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


def add_commands(command: Command) -> None:
    p = command("register-case", "register an eligible case and start its workflow", register)
    p.add_argument("--json", metavar="FILE", help="the whole case as a JSON document (see README)")
    p.add_argument("--case-ref")
    p.add_argument("--region")
    p.add_argument("--vlo", help="responsible VLO (default: the CLI identity)")
    p.add_argument("--provider", choices=[x.value for x in Provider], default=Provider.NPS.value)
    p.add_argument("--sentence-type", choices=[x.value for x in SentenceType])
    p.add_argument("--term-months", type=int, help="custodial term (omit for indeterminate)")
    p.add_argument("--sentence-date", type=parse_date)
    milestone_flags(p)
    p.add_argument(
        "--offence",
        action="append",
        metavar="CATEGORY:DESCRIPTION",
        help=f"repeatable; categories: {', '.join(c.value for c in OffenceCategory)}",
    )
    p.add_argument("--mappa-category", type=int, choices=[1, 2, 3])
    p.add_argument("--mappa-level", type=int, choices=[1, 2, 3])
    p.add_argument(
        "--discretionary-reason-file",
        metavar="FILE",
        help="take a case outside the statute: the reason, in a file (- for standard input)",
    )
    add_hospital_registration_flags(p)

    p = command(
        "record-conditions",
        "record licence conditions imposed (victims told the victim-related ones)",
        conditions,
    )
    case_flag(p)
    p.add_argument("--json", metavar="FILE", help="a list of conditions as JSON (see README)")
    p.add_argument("--kind", choices=[x.value for x in ConditionKind])
    text_file_flag(p, "the condition's description", required=False)
    p.add_argument("--victim-related", action=argparse.BooleanOptionalAction)
    p.add_argument("--starts", type=parse_date)
    p.add_argument("--ends", type=parse_date)

    p = command(
        "record-milestones", "record recalculated sentence dates (timers follow them)", milestones
    )
    case_flag(p)
    milestone_flags(p)

    p = command("record-release", "record the offender's release on licence", release)
    case_flag(p)
    p.add_argument("--date", required=True, type=parse_date)

    p = command(
        "record-key-stage",
        "record a key stage (temporary release, open conditions, recall, escape, absconding, "
        "returned to custody, death, ...); an escape or absconding raises an urgent task",
        key_stage,
    )
    case_flag(p)
    p.add_argument("--stage", required=True, choices=[x.value for x in KeyStage])
    p.add_argument("--date", required=True, type=parse_date)
    add_transfer_flags(p)

    p = command(
        "dhr", "record a direction to take part in a domestic homicide review (DVCVA s 9)", dhr
    )
    case_flag(p)
    p.add_argument("--directed-on", required=True, type=parse_date)
    p.add_argument("--due", required=True, type=parse_date, help="when our part is due")
    p.add_argument(
        "--reviewed-by", default="community safety partnership", help="who directed the review"
    )
