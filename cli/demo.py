"""The demonstration: two cases with their victims (made-up people), registered by the CLI
identity; each region's cases by an identity of that region (bin/run-demo runs it for both)."""

import argparse

from cli.common import Command, Out
from models.case import CaseRegistration
from models.victim import VictimBase
from models.vocabulary import Channel, Language
from service.actor import Actor
from service.vcs import Vcs

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


async def demo(vcs: Vcs, args: argparse.Namespace, actor: Actor, out: Out) -> None:
    """Register the demonstration cases of the identity's region and their victims; a re-run
    finds them all in place."""
    demo = [
        (DEMO_CASE, DEMO_VICTIMS),
        (DEMO_OVERDUE_CASE, [DEMO_OVERDUE_VICTIM]),
    ]
    for case, victims in demo:
        registration = CaseRegistration.model_validate(case)
        if registration.region != actor.region:
            out(f"case {registration.case_ref} is of {registration.region}: not this region's")
            continue
        case_wf, _, created = await vcs.register_case(registration, actor)
        status = "registered" if created else "already registered"
        out(f"case {registration.case_ref} {status}: workflow {case_wf}")
        for victim in victims:
            victim_id, added = await vcs.ensure_victim(registration.case_ref, victim, actor)
            offer = f"offer task {added.offer_task_id}" if added.offer_task_id else "offered"
            out(f"  victim {victim_id}: {offer}")


def add_commands(command: Command) -> None:
    command("demo", "register the demonstration cases of your region (safe to re-run)", demo)
