"""A patient's hospital path from the case page (service/hospital.py; DVCVA 2004 ss 36-44A): a
prisoner transferred to hospital, the hospital they are in (moved or readmitted), a tribunal
application, a restriction lifted or varied, remission to prison, a discharge; and, for one
victim, the hospital managers notified again. The hospitals are chosen from those recorded;
the confirmation is what the engine said it did."""

from datetime import date
from typing import Any

from fastapi import APIRouter, Request

from models.hospital import HospitalBase
from models.vocabulary import DischargeKind
from service.actor import Actor
from service.contacts import Invalid, Problem
from web.forms import (
    OPTIONAL_DATE,
    Form,
    Target,
    action_form,
    blank_to_none,
    parsed,
    parsed_all,
    vcs_of,
    wording,
)

router = APIRouter()
ON_FIX = "Enter the date as a real date"
HOSPITAL_FIX = "Choose the hospital"

TRANSFER = Form(
    "hospital_transfer.html",
    ("hospital_id", "on", "restricted", "restriction_ends_on"),
    {
        "hospital_id": HOSPITAL_FIX,
        "on": "Enter the date of the transfer as a real date",
        "restricted": "Choose whether a restriction direction was given",
        "restriction_ends_on": "Enter the date the restriction ends as a real date, or leave "
        "it blank",
    },
)
MOVE = Form(
    "hospital_move.html",
    ("hospital_id", "on"),
    {"hospital_id": HOSPITAL_FIX, "on": "Enter the date of the move as a real date"},
)
DATED = Form("hospital_dated.html", ("on",), {"on": ON_FIX})
DISCHARGE = Form(
    "hospital_discharge.html",
    ("kind", "on"),
    {"kind": "Choose the kind of discharge", "on": "Enter the date of discharge as a real date"},
)
RESTRICTION = Form(
    "hospital_restriction.html",
    ("change", "on", "ends_on"),
    {
        "change": "Choose whether the restriction was lifted or its end date varied",
        "on": "Enter the date of the change as a real date",
        "ends_on": "Enter the new date the restriction ends as a real date",
    },
)
CHANGE_PROBLEM = Problem("change", RESTRICTION.fixes["change"])
ADD = Form(
    "hospital_add.html",
    ("name", "address", "postcode"),
    {
        "name": "Enter the hospital's name (2 to 120 characters)",
        "address": "Enter the hospital's address (2 to 400 characters)",
        "postcode": "Enter the postcode (up to 10 characters), or leave it blank",
    },
)
NOTIFY = Form("confirm_step.html", ("confirm",))


def hospitals(request: Request, actor: Actor) -> dict[str, Any]:
    """The hospitals recorded, to choose from (none if the console has no engine)."""
    vcs = request.app.state.vcs
    return {"hospitals": vcs.hospitals(actor) if vcs is not None else []}


async def transfer(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    f = parsed_all(
        TRANSFER,
        values,
        hospital_id=int,
        on=date,
        restricted=bool,
        restriction_ends_on=OPTIONAL_DATE,
    )
    result = await vcs_of(request).record_transfer_to_hospital(
        target.case_ref, f["hospital_id"], f["on"], f["restricted"], f["restriction_ends_on"], actor
    )
    return result.message


async def move(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    f = parsed_all(MOVE, values, hospital_id=int, on=date)
    vcs = vcs_of(request)
    return (await vcs.record_hospital(target.case_ref, f["hospital_id"], f["on"], actor)).message


async def tribunal(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    on = parsed(DATED, values, "on", date)
    return (await vcs_of(request).record_tribunal_application(target.case_ref, on, actor)).message


async def remission(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    on = parsed(DATED, values, "on", date)
    return (await vcs_of(request).record_remission(target.case_ref, on, actor)).message


async def discharge(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    f = parsed_all(DISCHARGE, values, kind=DischargeKind, on=date)
    return (
        await vcs_of(request).record_discharge(target.case_ref, f["kind"], f["on"], actor)
    ).message


async def restriction(
    request: Request, actor: Actor, values: dict[str, str], target: Target
) -> str:
    """Lifted, or its end date varied (the CLI's --lifted or --ends-on: one of the two; the new
    end date is asked for only when it was varied)."""
    change = values["change"]
    problems = [] if change in ("lifted", "varied") else [CHANGE_PROBLEM]
    wanted = {"on": date} | ({"ends_on": date} if change == "varied" else {})
    try:
        f = parsed_all(RESTRICTION, values, **wanted)
    except Invalid as error:
        problems += error.problems
    if change == "lifted" and values["ends_on"]:
        problems.append(Problem("ends_on", "Leave the new end date blank if it was lifted"))
    if problems:
        raise Invalid(problems)
    result = await vcs_of(request).record_restriction_change(
        target.case_ref, f["on"], actor, lifted=change == "lifted", ends_on=f.get("ends_on")
    )
    return result.message


async def add(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    """A hospital patients may be detained in (as the CLI's add-hospital: safe to repeat)."""
    hospital = HospitalBase.model_validate(blank_to_none(values))
    hospital_id, created = vcs_of(request).add_hospital(hospital, actor)
    done = "recorded" if created else "was already recorded"
    return f"hospital {hospital_id} {done}: choose it on the transfer or hospital form"


async def notify(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    return (await vcs_of(request).notify_hospital(target.victim_id, actor)).message


def kinds(_: Request, __: Actor) -> dict[str, Any]:
    return {"kinds": list(DischargeKind)}


action_form(router, "/hospital/new", ADD, add)
action_form(router, "/hospital/transfer", TRANSFER, transfer, hospitals)
action_form(router, "/hospital/move", MOVE, move, hospitals)
action_form(
    router,
    "/hospital/tribunal",
    DATED,
    tribunal,
    wording(
        title="Record a tribunal application",
        text="A restricted patient's application or reference to the Mental Health Tribunal: "
        "victims in the scheme are told (DVCVA 2004 s 37(5), (7)).",
        label="Date of the application or reference",
        button="Record the application",
    ),
)
action_form(
    router,
    "/hospital/remission",
    DATED,
    remission,
    wording(
        title="Record remission to prison",
        text="The patient is remitted from hospital to prison (Mental Health Act 1983 s 50): "
        "the case returns to the custodial path.",
        label="Date of remission",
        button="Record remission",
    ),
)
action_form(router, "/hospital/discharge", DISCHARGE, discharge, kinds)
action_form(router, "/hospital/restriction", RESTRICTION, restriction)
action_form(
    router,
    "/victims/{victim_id:int}/notify-hospital",
    NOTIFY,
    notify,
    wording(
        title="Notify the hospital managers again",
        text="The hospital managers are sent the victim's details again, for example after a "
        "change of address (DVCVA 2004 s 36A / s 42A).",
        button="Notify the hospital",
    ),
)
