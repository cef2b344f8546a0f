"""Information sharing with other agencies (models/sharing.py): what they supplied, what we
disclose (refused unless every sharing rule allows it), and the record of disclosures."""

import argparse

from cli.common import Command, Out, case_flag, parse_date, positive_id
from models.sharing import (
    DisclosureRequest,
    InformationCategory,
    LawfulBasis,
    OnwardConsent,
    RecipientKind,
    SuppliedRequest,
)
from service.actor import Actor
from service.vcs import Vcs


async def supplied(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    request = SuppliedRequest(
        supplying_agency=args.agency,
        category=InformationCategory(args.category),
        received_on=args.received_on,
        onward_consent=OnwardConsent(args.consent),
        consented_agencies=args.consent_to or [],
        written_consent_ref=args.consent_ref,
    )
    supplied_id = vcs.record_supplied(args.case_ref, request, actor)
    out(f"supplied information {supplied_id} recorded")


async def disclose(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
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
    disclosure_id = vcs.disclose(args.case_ref, request, actor)
    out(f"disclosure {disclosure_id} recorded and audited")


async def disclosures(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    records = vcs.disclosures(args.case_ref, actor)
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


def add_commands(command: Command) -> None:
    p = command(
        "record-supplied",
        "record information another agency supplied, and its consent to onward disclosure",
        supplied,
    )
    case_flag(p)
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
        disclose,
    )
    case_flag(p)
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

    p = command("disclosures", "list the disclosures recorded on a case", disclosures)
    case_flag(p)
