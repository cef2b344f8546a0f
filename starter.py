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
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import Engine
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError, TemporalError
from temporalio.service import RPCError, RPCStatusCode

from models.case import CaseRegistration, MilestoneDates
from models.db import create_tables, make_engine
from models.errors import UnavailableError, VcsError
from models.messages import (
    ActionResult,
    AddVictims,
    CaseInput,
    CaseView,
    CompleteTask,
    OptIn,
    OptOut,
    RecordConditions,
    RecordKeyStage,
    RecordMilestones,
    RecordRelease,
    SubmitRepresentations,
    VictimView,
)
from models.policy import current_policy
from models.records import LicenceConditionBase
from models.repository import (
    add_conditions,
    add_representation,
    add_victim,
    case_by_ref,
    find_victim,
    history,
    is_enrolled,
    open_tasks,
    register_case,
    task_by_id,
    victim_case_ref,
    victims_of,
    withdraw_conditions,
    withdraw_representation,
)
from models.victim import VictimBase
from models.vocabulary import (
    Channel,
    ConditionKind,
    ContactLevel,
    KeyStage,
    Language,
    OffenceCategory,
    Provider,
    SentenceType,
)
from worker import TASK_QUEUE, connect
from workflows import schedules
from workflows.case import CaseWorkflow, case_workflow_id
from workflows.victim import VictimWorkflow, victim_workflow_id

T = TypeVar("T")

# How long a VLO waits for the engine to take an action before being told to try again.
UPDATE_TIMEOUT = timedelta(seconds=30)
NO_WORKER = (
    "no worker answered within 30 s: nothing was changed; start the worker "
    "(bin/run-demo) and repeat the command"
)


def update_error(err: WorkflowUpdateFailedError) -> VcsError:
    """The workflow's own reason for refusing, as one line."""
    cause: BaseException | None = err.cause
    while isinstance(cause, TemporalError) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, ApplicationError):
        return VcsError(cause.message)
    return VcsError(str(cause or err))


def unavailable(err: RPCError, workflow_id: str) -> VcsError:
    if err.status is RPCStatusCode.NOT_FOUND:
        return VcsError(f"workflow {workflow_id} is not running (closed, or never started)")
    if err.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
        return UnavailableError(NO_WORKER)
    return UnavailableError(f"cannot reach Temporal ({err.message}): nothing was changed")


class Vcs:
    """What a VLO can do. The CLI is a thin layer over this; tests drive it directly."""

    def __init__(self, client: Client, engine: Engine, task_queue: str = TASK_QUEUE) -> None:
        self.client = client
        self.engine = engine
        self.task_queue = task_queue

    async def _update(self, workflow_id: str, update: Any, arg: Any) -> ActionResult:
        try:
            result = await self.client.get_workflow_handle(workflow_id).execute_update(
                update, arg, rpc_timeout=UPDATE_TIMEOUT
            )
        except WorkflowUpdateFailedError as err:
            raise update_error(err) from None
        except RPCError as err:
            raise unavailable(err, workflow_id) from None
        assert isinstance(result, ActionResult)
        return result

    async def register_case(
        self, registration: CaseRegistration, by: str
    ) -> tuple[str, list[str], bool]:
        """Register the case and start its workflow (or find both already there)."""
        registered = register_case(self.engine, registration, by)
        victim_wf_ids = await self._start_case(registration.case_ref, [], by)
        return case_workflow_id(registration.case_ref), victim_wf_ids, registered.created

    async def _start_case(self, case_ref: str, victim_ids: list[int], by: str) -> list[str]:
        """Update-with-start: the case workflow is started if it is not already running."""
        start = WithStartWorkflowOperation(
            CaseWorkflow.run,
            CaseInput(case_ref=case_ref, policy=current_policy()),
            id=case_workflow_id(case_ref),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"Victim contact case {case_ref}",
        )
        try:
            result: list[str] = await self.client.execute_update_with_start_workflow(
                CaseWorkflow.add_victims,
                AddVictims(victim_ids=victim_ids, by=by),
                start_workflow_operation=start,
                rpc_timeout=UPDATE_TIMEOUT,
            )
        except WorkflowUpdateFailedError as err:
            raise update_error(err) from None
        except RPCError as err:
            raise unavailable(err, case_workflow_id(case_ref)) from None
        return result

    async def add_victim(self, case_ref: str, victim: VictimBase, by: str) -> tuple[int, str]:
        """Add a victim and start their workflow. A victim recorded by an earlier attempt whose
        workflow never started (the worker was down) is picked up; other duplicates are refused.
        """
        existing = find_victim(self.engine, case_ref, victim.full_name, victim.postcode)
        if (
            existing is not None
            and existing.id is not None
            and not is_enrolled(self.engine, existing.id)
        ):
            await self._start_case(case_ref, [existing.id], by)
            return existing.id, victim_workflow_id(case_ref, existing.id)
        row = add_victim(self.engine, case_ref, victim, by)
        assert row.id is not None
        await self._start_case(case_ref, [row.id], by)
        return row.id, victim_workflow_id(case_ref, row.id)

    async def ensure_victim(self, case_ref: str, victim: VictimBase, by: str) -> tuple[int, str]:
        """Add a victim unless already recorded (used by the demonstration, which re-runs)."""
        existing = find_victim(self.engine, case_ref, victim.full_name, victim.postcode)
        if existing is None:
            return await self.add_victim(case_ref, victim, by)
        assert existing.id is not None
        await self._start_case(case_ref, [existing.id], by)
        return existing.id, victim_workflow_id(case_ref, existing.id)

    def _victim_workflow(self, victim_id: int) -> str:
        return victim_workflow_id(victim_case_ref(self.engine, victim_id), victim_id)

    async def opt_in(self, victim_id: int, level: ContactLevel, by: str) -> ActionResult:
        return await self._update(
            self._victim_workflow(victim_id),
            VictimWorkflow.opt_in,
            OptIn(contact_level=level, by=by),
        )

    async def opt_out(self, victim_id: int, by: str) -> ActionResult:
        return await self._update(
            self._victim_workflow(victim_id), VictimWorkflow.opt_out, OptOut(by=by)
        )

    async def submit_representations(self, victim_id: int, text: str, by: str) -> ActionResult:
        workflow_id = self._victim_workflow(victim_id)
        rep_id = add_representation(self.engine, victim_id, text)
        try:
            return await self._update(
                workflow_id,
                VictimWorkflow.submit_representations,
                SubmitRepresentations(representation_id=rep_id, by=by),
            )
        except VcsError:
            withdraw_representation(self.engine, rep_id)
            raise

    async def record_conditions(
        self, case_ref: str, conditions: list[LicenceConditionBase], by: str
    ) -> ActionResult:
        ids = add_conditions(self.engine, case_ref, conditions)
        try:
            return await self._update(
                case_workflow_id(case_ref),
                CaseWorkflow.record_conditions,
                RecordConditions(condition_ids=ids, by=by),
            )
        except VcsError:
            withdraw_conditions(self.engine, ids)
            raise

    async def record_milestones(
        self, case_ref: str, changes: dict[str, date | None], by: str
    ) -> ActionResult:
        current = MilestoneDates.model_validate(
            case_by_ref(self.engine, case_ref), from_attributes=True
        )
        milestones = current.model_copy(update=changes)
        return await self._update(
            case_workflow_id(case_ref),
            CaseWorkflow.record_milestones,
            RecordMilestones(milestones=milestones, by=by),
        )

    async def record_release(self, case_ref: str, on: date, by: str) -> ActionResult:
        case_by_ref(self.engine, case_ref)
        return await self._update(
            case_workflow_id(case_ref), CaseWorkflow.record_release, RecordRelease(on=on, by=by)
        )

    async def record_key_stage(
        self, case_ref: str, stage: KeyStage, on: date, by: str
    ) -> ActionResult:
        case_by_ref(self.engine, case_ref)
        return await self._update(
            case_workflow_id(case_ref),
            CaseWorkflow.record_key_stage,
            RecordKeyStage(key_stage=stage, on=on, by=by),
        )

    async def complete_task(self, task_id: int, by: str, outcome: str) -> ActionResult:
        task = task_by_id(self.engine, task_id)
        update = (
            VictimWorkflow.complete_task
            if task.victim_id is not None
            else CaseWorkflow.complete_task
        )
        return await self._update(
            task.workflow_id, update, CompleteTask(task_id=task_id, by=by, outcome=outcome)
        )

    async def victim_view(self, victim_id: int) -> VictimView:
        return await self.client.get_workflow_handle(self._victim_workflow(victim_id)).query(
            VictimWorkflow.view
        )

    async def case_view(self, case_ref: str) -> CaseView:
        case_by_ref(self.engine, case_ref)
        return await self.client.get_workflow_handle(case_workflow_id(case_ref)).query(
            CaseWorkflow.view
        )


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
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise VcsError(f"cannot read {path}: {err.strerror}") from None
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
    }
    fields.update({name: getattr(args, flag) for flag, name in MILESTONE_FLAGS.items()})
    return CaseRegistration.model_validate(fields)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    p.add_argument("--victim", required=True, type=positive_id)
    p.add_argument("--level", required=True, choices=[x.value for x in ContactLevel])

    p = command("opt-out", "record that a victim does not want (or no longer wants) contact")
    p.add_argument("--victim", required=True, type=positive_id)

    p = command(
        "submit-representations",
        "record a victim's representations on licence conditions and forward them",
    )
    p.add_argument("--victim", required=True, type=positive_id)
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
        "record-key-stage", "record a key stage (temporary release, open conditions, escape, ...)"
    )
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--stage", required=True, choices=[x.value for x in KeyStage])
    p.add_argument("--date", required=True, type=parse_date)

    p = command("victims", "list a case's victims and where each stands")
    p.add_argument("--case", required=True, dest="case_ref")
    p.add_argument("--with-names", action="store_true", help="show names (authorised VLOs only)")

    p = command("tasks", "list open VLO tasks of a case, or of a VLO")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--case", dest="case_ref")
    who.add_argument("--vlo")

    p = command("complete-task", "complete a VLO task")
    p.add_argument("--task", required=True, type=positive_id)
    p.add_argument("--outcome", default="done")

    p = command("timeline", "what has happened on a case and what is scheduled next")
    p.add_argument("--case", required=True, dest="case_ref")

    command("demo", "register the demonstration case with two victims (safe to re-run)")

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
            out(f"victim {victim_id} added: workflow {workflow_id}")
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
        case "record-key-stage":
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
            out((await vcs.complete_task(args.task, by, args.outcome)).message)
        case "timeline":
            await print_timeline(vcs, args.case_ref, out)
        case "demo":
            await run_demo(vcs, by, out)
        case "schedules":
            await run_schedules(vcs, args.action, args.name, by, out)


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


def read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise VcsError(f"cannot read {path}: {err.strerror}") from None


async def print_timeline(vcs: Vcs, case_ref: str, out: Callable[[str], None]) -> None:
    audit, letters = history(vcs.engine, case_ref)
    events = [
        (
            e.at,
            f"{e.action}: {e.detail}".rstrip(": ")
            + (f" (victim {e.victim_id})" if e.victim_id else "")
            + f" [{e.actor}]",
        )
        for e in audit
    ]
    events += [
        (
            c.created_at,
            f"letter {c.kind.value} queued for victim {c.victim_id} by {c.channel.value}",
        )
        for c in letters
    ]
    out(f"case {case_ref}: what happened")
    for at, text in sorted(events, key=lambda e: e[0]):
        out(f"  {at:%Y-%m-%d %H:%M}  {text}")
    out("scheduled next")
    view = await vcs.case_view(case_ref)
    scheduled = [(s.on, f"case: {s.what}") for s in view.scheduled]
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
    """Run one command. Exit status: 0 done, 2 refused (nothing changed), 3 unreachable."""
    parser = build_parser()
    args = parser.parse_args(argv)
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
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: the Temporal client's native threads can abort it at exit,
    # which would turn a clean result into a crash report.
    os._exit(code)


if __name__ == "__main__":
    main()
