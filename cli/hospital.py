"""Hospital paths (DVCVA 2004 ss 36-44A; models/hospital.py): the hospitals, and each step of
a patient's path that victims in the scheme are told of."""

import argparse

from cli.common import (
    Command,
    Out,
    case_flag,
    parse_date,
    positive_id,
    read_json,
    strict,
    victim_flags,
)
from models.hospital import HospitalBase
from models.vocabulary import DischargeKind
from service.actor import Actor
from service.vcs import Vcs


async def add_hospital(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    hospital = strict(HospitalBase, read_json(args.details), args.details)
    hospital_id, created = vcs.add_hospital(hospital, actor)
    out(f"hospital {hospital_id} {'recorded' if created else 'already recorded'}")


async def hospitals(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    rows = vcs.hospitals(actor)
    if not rows:
        out("no hospitals recorded")
    for row in rows:
        out(f"hospital {row.id}: {row.name} {row.postcode or ''}".rstrip())


async def record_hospital(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    out((await vcs.record_hospital(args.case_ref, args.hospital, args.date, actor)).message)


async def remission(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    out((await vcs.record_remission(args.case_ref, args.date, actor)).message)


async def discharge(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    kind = DischargeKind(args.kind)
    out((await vcs.record_discharge(args.case_ref, kind, args.date, actor)).message)


async def restriction(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    result = await vcs.record_restriction_change(
        args.case_ref, args.date, actor, lifted=args.lifted, ends_on=args.ends_on
    )
    out(result.message)


async def tribunal(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    out((await vcs.record_tribunal_application(args.case_ref, args.date, actor)).message)


async def notify(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    out((await vcs.notify_hospital(args.victim, actor)).message)


def dated(p: argparse.ArgumentParser) -> None:
    case_flag(p)
    p.add_argument("--date", required=True, type=parse_date)


def add_commands(command: Command) -> None:
    p = command(
        "add-hospital",
        "record a hospital patients may be detained in (safe to repeat)",
        add_hospital,
    )
    p.add_argument(
        "--details",
        required=True,
        metavar="FILE",
        help="the hospital as a JSON object (name, address, postcode), or - for standard input",
    )

    command("hospitals", "list the hospitals recorded", hospitals)

    p = command(
        "record-hospital",
        "record the hospital a patient is detained in, moved to or readmitted to (the hospital "
        "managers are notified again: DVCVA s 36A / s 42A)",
        record_hospital,
    )
    case_flag(p)
    p.add_argument("--hospital", required=True, type=positive_id)
    p.add_argument("--date", required=True, type=parse_date)

    p = command(
        "record-remission",
        "record a patient's remission from hospital to prison (MHA s 50)",
        remission,
    )
    dated(p)

    p = command(
        "record-discharge",
        "record a discharge from hospital (conditions of discharge: record-conditions); an "
        "absolute discharge ends the order and the case",
        discharge,
    )
    case_flag(p)
    p.add_argument("--kind", required=True, choices=[x.value for x in DischargeKind])
    p.add_argument("--date", required=True, type=parse_date)

    p = command(
        "record-restriction",
        "record a restriction order or direction lifted (--lifted) or its end date varied "
        "(--ends-on): victims in the scheme are told (DVCVA s 37(4), (7))",
        restriction,
    )
    dated(p)
    change = p.add_mutually_exclusive_group(required=True)
    change.add_argument("--lifted", action="store_true")
    change.add_argument("--ends-on", type=parse_date)

    p = command(
        "record-tribunal-application",
        "record a restricted patient's Mental Health Tribunal application or reference: "
        "victims in the scheme are told (DVCVA s 37(5), (7))",
        tribunal,
    )
    dated(p)

    p = command(
        "notify-hospital",
        "notify the hospital managers again of a victim's details (e.g. a new address)",
        notify,
    )
    victim_flags(p)
