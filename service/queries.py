"""What people read: their tasks and a case, each checked against the access table first.
A refusal is written to the access log before it is raised, and changes nothing else."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models.access_log import AccessRefusal
from models.audit import readable
from models.case import OffenderCase
from models.db import session_scope
from models.eligibility import hospital_path
from models.handoff import ENDED_STEPS, CaseHandoff
from models.records import AuditEntry, VloTask
from models.victim import Enrolment
from models.vocabulary import ContactLevel, HospitalPath, Stage, TaskKind, TaskStatus
from service.access import Action, Refused, check
from service.actor import Actor, Role


class NotFound(Exception):
    pass


def checked(
    engine: Engine,
    actor: Actor,
    action: Action,
    case: OffenderCase | None = None,
    *,
    region: str | None = None,
) -> None:
    """check(), with every refusal logged (in its own transaction: the refused action writes
    nothing, the log entry stays). A case not yet registered is checked by its `region`."""
    try:
        check(actor, action, case.region if case else region)
    except Refused as refused:
        with session_scope(engine) as session:
            session.add(
                AccessRefusal(
                    at=datetime.now(UTC),
                    actor=actor.id,
                    action=action.value,
                    scope=refused.scope.value,
                    case_id=case.id if case else None,
                )
            )
        raise


@dataclass(frozen=True)
class TaskLine:
    task_id: int
    case_ref: str
    victim_id: int | None
    kind: TaskKind
    title: str
    due_on: date
    overdue: bool
    escalation_level: int
    held_by: str  # a VLO's subject, or the role an escalation went to


def _open_tasks(session: Session, today: date, *where: Any) -> list[TaskLine]:
    """Open tasks matching `where`, with their case reference, earliest due (so overdue) first."""
    rows = session.exec(
        select(VloTask, OffenderCase.case_ref)
        .join(OffenderCase, col(OffenderCase.id) == col(VloTask.case_id))
        .where(VloTask.status == TaskStatus.OPEN, *where)
        .order_by(col(VloTask.due_on), col(VloTask.id))
    ).all()
    return [
        TaskLine(
            task_id=t.id or 0,
            case_ref=case_ref,
            victim_id=t.victim_id,
            kind=t.kind,
            title=t.title,
            due_on=t.due_on,
            overdue=t.due_on < today,
            escalation_level=t.escalation_level,
            held_by=t.assigned_to,
        )
        for t, case_ref in rows
    ]


def my_tasks(engine: Engine, actor: Actor, today: date) -> list[TaskLine]:
    """The actor's open tasks in their own region, earliest due (so overdue) first. A task
    still assigned to them on a case that has moved to another region is not theirs to see."""
    checked(engine, actor, Action.VIEW_MY_TASKS)
    with session_scope(engine) as session:
        return _open_tasks(
            session, today, VloTask.assigned_to == actor.id, OffenderCase.region == actor.region
        )


# Whom an escalated task is assigned to (workflows/tasks.py ESCALATION_ROLES), by the role that
# takes it: a senior VLO the first level, a manager the first two.
ESCALATIONS_TAKEN = {
    Role.SENIOR_VLO: ("role:senior-vlo",),
    Role.VLO_MANAGER: ("role:senior-vlo", "role:vlo-manager", "role:head-of-victim-services"),
}


def escalated_tasks(engine: Engine, actor: Actor, today: date) -> list[TaskLine]:
    """Tasks escalated to the actor's role in their region, earliest due first."""
    checked(engine, actor, Action.VIEW_ESCALATED_TASKS)
    holders = sorted({h for role in actor.roles for h in ESCALATIONS_TAKEN.get(role, ())})
    with session_scope(engine) as session:
        return _open_tasks(
            session,
            today,
            col(VloTask.assigned_to).in_(holders),
            OffenderCase.region == actor.region,
        )


@dataclass(frozen=True)
class Workload:
    held_by: str  # a VLO's subject, or the role an escalation went to
    open: int
    overdue: int


@dataclass(frozen=True)
class RegionView:
    region: str
    workloads: list[Workload]
    overdue: list[TaskLine]


def region_view(engine: Engine, actor: Actor, today: date) -> RegionView:
    """A manager's view of the region: who holds how many open and overdue tasks, and every
    overdue task, most overdue first."""
    checked(engine, actor, Action.VIEW_REGION)
    with session_scope(engine) as session:
        lines = _open_tasks(session, today, OffenderCase.region == actor.region)
    counts: dict[str, list[int]] = {}
    for line in lines:
        tally = counts.setdefault(line.held_by, [0, 0])
        tally[0] += 1
        tally[1] += line.overdue
    workloads = [Workload(h, n, o) for h, (n, o) in sorted(counts.items(), key=lambda i: -i[1][1])]
    return RegionView(actor.region, workloads, [t for t in lines if t.overdue])


@dataclass(frozen=True)
class VictimLine:
    victim_id: int
    stage: Stage
    contact_level: ContactLevel | None


@dataclass(frozen=True)
class Happened:
    """One line of a case's timeline: an audit entry, as IDs, kinds and dates."""

    at: datetime
    what: str
    victim_id: int | None
    by: str  # who acted: a subject, or the engine


# The case page shows the latest of the trail (the CLI's `timeline` and the audit export have
# it all): a long-running case's page stays as quick as a new one's.
HISTORY_SHOWN = 40


@dataclass(frozen=True)
class CaseSummary:
    case: OffenderCase
    victims: list[VictimLine]
    tasks: list[TaskLine]
    history: list[Happened]  # newest first, at most HISTORY_SHOWN
    history_more: bool  # there is more (the audit export has the whole trail)
    handoff: CaseHandoff | None  # the hand-off in progress (not switched, not withdrawn)

    @property
    def hospital_path(self) -> HospitalPath | None:
        return hospital_path(self.case.disposal, self.case.restricted)


def _history(session: Session, case_id: int) -> tuple[list[Happened], bool]:
    """The latest entries of the case's audit trail, newest first (letters among them: each
    is audited as queued, sent and delivered), and whether there are more."""
    entries = session.exec(
        select(AuditEntry)
        .where(AuditEntry.case_id == case_id)
        .order_by(col(AuditEntry.id).desc())
        .limit(HISTORY_SHOWN + 1)
    ).all()
    lines = [
        Happened(e.at, f"{e.action}: {readable(e.detail)}".rstrip(": "), e.victim_id, e.actor)
        for e in entries
    ]
    return lines[:HISTORY_SHOWN], len(lines) > HISTORY_SHOWN


def _viewable(session: Session, engine: Engine, actor: Actor, case_ref: str) -> OffenderCase:
    case = session.exec(select(OffenderCase).where(OffenderCase.case_ref == case_ref)).first()
    if case is None:
        raise NotFound(f"no case {case_ref}")
    checked(engine, actor, Action.VIEW_CASE, case)
    return case


def viewable_case(engine: Engine, actor: Actor, case_ref: str) -> OffenderCase:
    """The case, once the actor may see it (a form checks this before showing itself)."""
    with session_scope(engine) as session:
        return _viewable(session, engine, actor, case_ref)


def case_summary(engine: Engine, actor: Actor, case_ref: str, today: date) -> CaseSummary:
    """The case page's rows, read in one transaction once the actor may see the case."""
    with session_scope(engine) as session:
        case = _viewable(session, engine, actor, case_ref)
        enrolments = session.exec(
            select(Enrolment).where(Enrolment.case_id == case.id).order_by(col(Enrolment.victim_id))
        ).all()
        history, more = _history(session, case.id or 0)
        handoff = session.exec(
            select(CaseHandoff).where(
                CaseHandoff.case_id == case.id, col(CaseHandoff.step).not_in(ENDED_STEPS)
            )
        ).first()
        return CaseSummary(
            case=case,
            victims=[VictimLine(e.victim_id, e.stage, e.contact_level) for e in enrolments],
            tasks=_open_tasks(session, today, VloTask.case_id == case.id),
            history=history,
            history_more=more,
            handoff=handoff,
        )
