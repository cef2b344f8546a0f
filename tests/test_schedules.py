"""The scheduled jobs: the daily reconciliation of VLO tasks, retention (erasure of victims'
personal data after a case closes), their Temporal Schedules, and `starter.py schedules`.

The two workflows run under the time-skipping server (rows seeded straight into a fresh case
database, dates relative to the server's clock); schedules need the dev server (`local_env`).
"""

import asyncio
import contextlib
import csv
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, func, select
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleOverlapPolicy,
    ScheduleRange,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

import starter
from activities.retention import (
    DEFAULT_RETENTION_DAYS,
    ERASED_ACTION,
    RetentionActivities,
    configured_retention_days,
)
from models.case import Offence, OffenderCase
from models.db import session_scope
from models.records import AuditEntry, Correspondence, LicenceCondition, Representation, VloTask
from models.reports import (
    ERASED,
    ErasureRecord,
    ErasureRequest,
    ExpiredCasesQuery,
    ReconciliationInput,
    ReconciliationReport,
    ReconciliationResult,
    RetentionInput,
    RetentionResult,
)
from models.victim import Victim
from models.vocabulary import (
    CaseStatus,
    Channel,
    ConditionKind,
    Language,
    LetterKind,
    OffenceCategory,
    SentenceType,
    TaskKind,
    TaskStatus,
)
from models.working_days import london_date, london_today
from service.actor import Role
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.helpers import vlo_actor
from worker import build_worker
from workflows import schedules
from workflows.reconciliation import DailyReconciliationWorkflow
from workflows.retention import RetentionWorkflow

# ---- seeding -----------------------------------------------------------------------------------


def seed_case(
    engine: Engine,
    region: str,
    *,
    closed_at: datetime | None = None,
) -> tuple[int, str]:
    case_ref = unique_ref("SCH")
    with session_scope(engine) as session:
        case = OffenderCase(
            case_ref=case_ref,
            region=region,
            responsible_vlo="vlo.jones",
            sentence_type=SentenceType.IMPRISONMENT,
            term_months=24,
            sentence_date=date(2020, 1, 6),
            eligibility_basis="statutory",
            eligibility_reason="seeded for a test",
            registered_at=datetime.now(UTC),
            status=CaseStatus.CLOSED if closed_at else CaseStatus.OPEN,
            closed_at=closed_at,
        )
        session.add(case)
        session.flush()
        assert case.id is not None
        return case.id, case_ref


def seed_task(
    engine: Engine,
    case_id: int,
    due_on: date,
    *,
    assigned_to: str = "vlo.jones",
    kind: TaskKind = TaskKind.OFFER_SCHEME,
    status: TaskStatus = TaskStatus.OPEN,
    escalation_level: int = 0,
    outcome: str | None = None,
) -> int:
    with session_scope(engine) as session:
        task = VloTask(
            task_key=f"seed:{uuid.uuid4()}",
            workflow_id=f"vcs-case-seed-{case_id}",
            case_id=case_id,
            kind=kind,
            title=f"{kind.value} (seeded)",
            assigned_to=assigned_to,
            due_on=due_on,
            status=status,
            escalation_level=escalation_level,
            created_at=datetime.now(UTC),
            outcome=outcome,
        )
        session.add(task)
        session.flush()
        assert task.id is not None
        return task.id


def count(engine: Engine, model: type, *where: Any) -> int:
    with session_scope(engine) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def reports_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The worker's reports folder (read when build_worker makes the activities)."""
    folder = tmp_path / "reports"
    monkeypatch.setenv("VCS_REPORTS_DIR", str(folder))
    return folder


# ---- daily reconciliation ----------------------------------------------------------------------


@pytest.mark.usefixtures("cleanup_workflows")
async def test_reconciliation_lists_due_and_overdue_tasks_per_region_and_reruns_in_place(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str, reports_dir: Path
) -> None:
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    day = timedelta(days=1)

    north, north_ref = seed_case(engine, "North East")
    wales, wales_ref = seed_case(engine, "Wales")
    london, _ = seed_case(engine, "London")  # nothing due: its files carry only a header
    closed, _ = seed_case(engine, "Wales", closed_at=datetime.now(UTC))

    n_today = seed_task(engine, north, today)
    n_late = seed_task(engine, north, today - 3 * day, kind=TaskKind.CHASE_RESPONSE)
    seed_task(engine, north, today - day, status=TaskStatus.DONE)  # done: not listed
    seed_task(engine, north, today + day)  # not yet due
    w_late = seed_task(
        engine,
        wales,
        today - 10 * day,
        kind=TaskKind.ESCALATION,
        assigned_to="role:senior-vlo",
        escalation_level=1,
    )
    w_today = seed_task(engine, wales, today, assigned_to="vlo.evans")
    seed_task(engine, closed, today - 5 * day)  # a closed case's task: not listed
    seed_task(engine, london, today + 5 * day)

    async def reconcile(params: ReconciliationInput) -> ReconciliationResult:
        async with build_worker(env.client, engine, task_queue):
            return await env.client.execute_workflow(
                DailyReconciliationWorkflow.run,
                params,
                id=f"vcs-reconciliation-test-{uuid.uuid4()}",
                task_queue=task_queue,
            )

    def stored() -> dict[str, list[tuple[int, bool, int]]]:
        with session_scope(engine) as session:
            rows = session.exec(
                select(ReconciliationReport)
                .where(ReconciliationReport.report_date == today)
                .order_by(ReconciliationReport.task_id)  # type: ignore[arg-type]
            ).all()
        by_region: dict[str, list[tuple[int, bool, int]]] = {}
        for row in rows:
            by_region.setdefault(row.region, []).append(
                (row.task_id, row.overdue, row.days_overdue)
            )
        return by_region

    expected = {
        "North East": sorted([(n_today, False, 0), (n_late, True, 3)]),
        "Wales": sorted([(w_late, True, 10), (w_today, False, 0)]),
    }
    result = await reconcile(ReconciliationInput(report_date=today))
    assert result.report_date == today
    assert (result.tasks, result.overdue) == (4, 2)
    summary = {r.region: (r.due_today, r.overdue) for r in result.regions}
    assert summary == {"London": (0, 0), "North East": (1, 1), "Wales": (1, 1)}
    assert stored() == expected

    folder = reports_dir / "reconciliation"
    stamp = today.isoformat()
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted(
        f"{stamp}_{slug}_{what}.csv"
        for slug in ("london", "north-east", "wales")
        for what in ("tasks", "overdue")
    )
    wales_tasks = read_csv(folder / f"{stamp}_wales_tasks.csv")
    assert [int(r["task_id"]) for r in wales_tasks] == [w_late, w_today]  # by assignee
    assert {r["case_ref"] for r in wales_tasks} == {wales_ref}
    assert [r["status"] for r in wales_tasks] == ["overdue", "due today"]
    wales_overdue = read_csv(folder / f"{stamp}_wales_overdue.csv")
    assert wales_overdue == [
        {
            "task_id": str(w_late),
            "case_ref": wales_ref,
            "kind": "escalation",
            "due_on": (today - 10 * day).isoformat(),
            "days_overdue": "10",
            "assigned_to": "role:senior-vlo",
            "escalation_level": "1",
            "escalated": "no",
        }
    ]
    north_overdue = read_csv(folder / f"{stamp}_north-east_overdue.csv")
    assert [(int(r["task_id"]), r["case_ref"]) for r in north_overdue] == [(n_late, north_ref)]
    assert read_csv(folder / f"{stamp}_london_tasks.csv") == []
    assert read_csv(folder / f"{stamp}_london_overdue.csv") == []

    # The same day again: the same report, in place of the first (never a second copy).
    again = await reconcile(ReconciliationInput(report_date=today))
    assert again.model_dump() == result.model_dump()
    assert stored() == expected
    assert count(engine, ReconciliationReport) == 4
    assert sorted(p.name for p in folder.iterdir()) == files

    # A task done since: the re-run replaces the report, and the task leaves it.
    with session_scope(engine) as session:
        task = session.get(VloTask, n_late)
        assert task is not None
        task.status = TaskStatus.DONE
        session.add(task)
    before = london_date(await env.get_current_time())
    third = await reconcile(ReconciliationInput())  # as scheduled: the workflow's today
    after = london_date(await env.get_current_time())
    assert before <= third.report_date <= after
    if third.report_date == today:
        assert stored()["North East"] == [(n_today, False, 0)]
        assert count(engine, ReconciliationReport) == 3
        assert read_csv(folder / f"{stamp}_north-east_overdue.csv") == []


# ---- retention -------------------------------------------------------------------------------

# Distinctive personal data of the cases past the period: none may survive anywhere.
ERASABLE = {
    "name": "Ottoline Zzyzx-Marchbanks",
    "address": "44 Vanishing Crescent, Hebden Bridge",
    "postcode": "HX7 9QZ",
    "email": "ottoline.zm@example.invalid",
    "phone": "07700 900417",
    "represents": "Percival Zzyzx-Marchbanks",
    "representation": "Keep him away from the Quillon allotments",
    "condition": "Not to enter the Wykeham Snicket exclusion zone",
    "letter": "Dear Ms Zzyzx-Marchbanks, about the Quillon allotments",
    "second_name": "Hyacinth Oddlestone-Pruitt",
    "second_address": "9 Gloaming Yard, Todmorden",
    "task_outcome": "Spoke to Ottoline at the Quernmoor bus shelter",
    "offence": "Assault on Ottoline Zzyzx-Marchbanks",
}
# Personal data of cases still inside the period, or still open: kept as it is.
KEPT = {
    "recent_name": "Barnaby Fennimore-Quayle",
    "recent_address": "3 Lantern Row, Skipton",
    "open_name": "Clementine Auberon-Sykes",
}


def seed_victim(
    engine: Engine,
    case_id: int,
    name: str,
    address: str,
    *,
    representation: str | None = None,
    condition: str | None = None,
    letter: str | None = None,
    **fields: str,
) -> int:
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        victim = Victim(
            case_id=case_id,
            full_name=name,
            address=address,
            added_at=now,
            preferred_channel=Channel.LETTER,
            **fields,  # type: ignore[arg-type]
        )
        session.add(victim)
        session.flush()
        assert victim.id is not None
        session.add(
            AuditEntry(
                case_id=case_id,
                victim_id=victim.id,
                actor="vlo.jones",
                action="victim_added",
                at=now,
            )
        )
        if representation:
            session.add(
                Representation(
                    case_id=case_id, victim_id=victim.id, text=representation, received_at=now
                )
            )
        if condition:
            session.add(
                LicenceCondition(
                    case_id=case_id,
                    kind=ConditionKind.EXCLUSION_ZONE,
                    description=condition,
                    victim_related=True,
                    starts_on=date(2022, 1, 1),
                    recorded_at=now,
                )
            )
        if letter:
            session.add(
                Correspondence(
                    idempotency_key=f"seed:{uuid.uuid4()}",
                    case_id=case_id,
                    victim_id=victim.id,
                    kind=LetterKind.SCHEME_ENDED,
                    channel=Channel.LETTER,
                    language=Language.ENGLISH,
                    body=f"{name}\n{address}\n\n{letter}",
                    created_at=now,
                )
            )
        return victim.id


def text_in_database(engine: Engine) -> str:
    """Every text value of every column of every table, lower-cased, one blob."""
    values: list[str] = []
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(sa_select(table)):
                values += [v for v in row if isinstance(v, str)]
    return "\n".join(values).lower()


def victim_fields(engine: Engine, case_id: int) -> list[tuple[Any, ...]]:
    with session_scope(engine) as session:
        victims = session.exec(select(Victim).where(Victim.case_id == case_id)).all()
        return [
            (v.full_name, v.address, v.postcode, v.email, v.phone, v.represents, v.erased_at)
            for v in victims
        ]


@pytest.mark.usefixtures("cleanup_workflows")
async def test_retention_erases_only_cases_closed_past_the_period_and_proves_it(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str, reports_dir: Path
) -> None:
    env = time_skipping_env
    now = await env.get_current_time()
    assert configured_retention_days() == DEFAULT_RETENTION_DAYS == 730

    old, old_ref = seed_case(engine, "Wales", closed_at=now - timedelta(days=800))
    older, _ = seed_case(engine, "Wales", closed_at=now - timedelta(days=2000))
    recent, _ = seed_case(engine, "Wales", closed_at=now - timedelta(days=600))
    still_open, _ = seed_case(engine, "Wales")
    first = seed_victim(
        engine,
        old,
        ERASABLE["name"],
        ERASABLE["address"],
        postcode=ERASABLE["postcode"],
        email=ERASABLE["email"],
        phone=ERASABLE["phone"],
        represents=ERASABLE["represents"],
        representation=ERASABLE["representation"],
        condition=ERASABLE["condition"],
        letter=ERASABLE["letter"],
    )
    second = seed_victim(
        engine, old, ERASABLE["second_name"], ERASABLE["second_address"], letter="Hello"
    )
    seed_victim(engine, older, ERASABLE["name"], ERASABLE["address"], letter=ERASABLE["letter"])
    seed_task(
        engine, old, date(2022, 1, 3), status=TaskStatus.DONE, outcome=ERASABLE["task_outcome"]
    )
    seed_task(engine, old, date(2022, 1, 4), status=TaskStatus.DONE)  # no outcome: stays empty
    with session_scope(engine) as session:
        session.add(
            Offence(
                case_id=older,
                description=ERASABLE["offence"],
                category=OffenceCategory.SCHEDULE_15_VIOLENT,
            )
        )
    seed_victim(
        engine,
        recent,
        KEPT["recent_name"],
        KEPT["recent_address"],
        representation="Recent representations",
        condition="Recent condition",
        letter="Recent letter",
    )
    seed_victim(engine, still_open, KEPT["open_name"], "1 Open Street")
    audit_before = count(engine, AuditEntry)
    blob = text_in_database(engine)
    assert all(value.lower() in blob for value in ERASABLE.values())  # the scan sees them

    async def retention() -> tuple[RetentionResult, str]:
        workflow_id = f"vcs-retention-test-{uuid.uuid4()}"
        async with build_worker(env.client, engine, task_queue):
            result = await env.client.execute_workflow(
                RetentionWorkflow.run,
                # The clock pinned: the suite's other tests move the server's time on.
                # One case a run: the workflow continues as new between them.
                RetentionInput(as_of=now, batch_size=1),
                id=workflow_id,
                task_queue=task_queue,
            )
            history = await env.client.get_workflow_handle(workflow_id).fetch_history()
        return result, history.to_json()

    result, history = await retention()
    assert result.retention_days == 730
    assert result.progress.cases_erased == 2
    assert result.progress.failed_case_ids == []
    assert (result.progress.victims, result.progress.representations) == (3, 1)
    assert (result.progress.licence_conditions, result.progress.correspondence) == (1, 3)

    # What was erased, field by field; erased_at set.
    for case_id in (old, older):
        for fields in victim_fields(engine, case_id):
            assert fields[:6] == (ERASED, None, None, None, None, None)
            assert fields[6] is not None
    with session_scope(engine) as session:
        for model, field in (
            (Representation, "text"),
            (LicenceCondition, "description"),
            (Correspondence, "body"),
        ):
            rows = session.exec(select(model).where(model.case_id.in_([old, older]))).all()  # type: ignore[attr-defined]
            assert rows and {getattr(r, field) for r in rows} == {ERASED}
        outcomes = session.exec(select(VloTask.outcome).where(VloTask.case_id == old)).all()
        assert sorted(outcomes, key=str) == [None, ERASED]  # an empty outcome stays empty

    # Nothing erased inside the period, or on an open case.
    assert [f[0] for f in victim_fields(engine, recent)] == [KEPT["recent_name"]]
    assert [f[0] for f in victim_fields(engine, still_open)] == [KEPT["open_name"]]
    assert all(f[6] is None for f in victim_fields(engine, recent))

    # No distinctive personal string is left in any text column of any table.
    blob = text_in_database(engine)
    left = [key for key, value in ERASABLE.items() if value.lower() in blob]
    assert not left, f"personal data left in the database: {left}"
    assert all(value.lower() in blob for value in KEPT.values())
    assert not [v for v in ERASABLE.values() if v.lower() in history.lower()]

    # The audit trail stays, with one entry per erased case.
    erased_entries = count(engine, AuditEntry, AuditEntry.action == ERASED_ACTION)
    assert erased_entries == 2
    assert count(engine, AuditEntry) == audit_before + 2

    # The proof: one record per case, the ids, the period, and a passing re-read.
    with session_scope(engine) as session:
        records = {
            r.case_id: r
            for r in session.exec(select(ErasureRecord).order_by(ErasureRecord.case_id)).all()  # type: ignore[arg-type]
        }
    assert sorted(records) == sorted([old, older])
    record = records[old]
    assert record.case_ref == old_ref and record.retention_days == 730
    assert record.verified is True and record.verified_at is not None
    assert "no personal field left" in record.verification
    assert record.victim_ids == [first, second]
    assert (record.victims, record.representations, record.licence_conditions) == (2, 1, 1)
    assert record.correspondence == 2 and len(record.correspondence_ids) == 2

    # A second run erases nothing new and adds nothing.
    again, _ = await retention()
    assert again.progress.cases_erased == 0
    assert count(engine, ErasureRecord) == 2
    assert count(engine, AuditEntry) == audit_before + 2
    assert [f[0] for f in victim_fields(engine, recent)] == [KEPT["recent_name"]]


def test_retention_refuses_a_case_inside_the_period_or_open(engine: Engine) -> None:
    """Called directly (not through the finder), erasure still checks the period."""
    now = datetime.now(UTC)
    recent, _ = seed_case(engine, "Wales", closed_at=now - timedelta(days=10))
    still_open, _ = seed_case(engine, "Wales")
    seed_victim(engine, recent, KEPT["recent_name"], KEPT["recent_address"])
    activities = RetentionActivities(engine)
    for case_id in (recent, still_open):
        with pytest.raises(ApplicationError, match="nothing erased") as raised:
            activities.erase_case(
                ErasureRequest(
                    case_id=case_id,
                    retention_days=730,
                    cutoff=now - timedelta(days=730),
                    by="test",
                )
            )
        assert raised.value.non_retryable
    assert [f[0] for f in victim_fields(engine, recent)] == [KEPT["recent_name"]]
    assert count(engine, ErasureRecord) == 0


def test_verification_catches_personal_data_left_after_erasure(engine: Engine) -> None:
    """The check re-reads the rows: a letter written after the erasure fails it, naming the
    row but not its words; the next run erases it and the check passes."""
    now = datetime.now(UTC)
    old, _ = seed_case(engine, "Wales", closed_at=now - timedelta(days=800))
    victim_id = seed_victim(engine, old, ERASABLE["name"], ERASABLE["address"], letter="Hi")
    activities = RetentionActivities(engine)
    request = ErasureRequest(
        case_id=old, retention_days=730, cutoff=now - timedelta(days=730), by="test"
    )
    assert not activities.erase_case(request).skipped
    assert activities.verify_erasure(old).verified
    assert activities.erase_case(request).skipped  # erased and verified: left alone

    with session_scope(engine) as session:
        late = Correspondence(
            idempotency_key="late-letter",
            case_id=old,
            victim_id=victim_id,
            kind=LetterKind.SCHEME_ENDED,
            channel=Channel.LETTER,
            language=Language.ENGLISH,
            body=f"Dear {ERASABLE['name']}",
            created_at=now,
        )
        session.add(late)
        session.flush()
        late_id = late.id
    checked = activities.verify_erasure(old)
    assert not checked.verified
    assert checked.problems == [
        f"letter {late_id}: body not erased",
        f"letters [{late_id}] are not in the erasure record",
    ]
    with session_scope(engine) as session:
        record = session.exec(select(ErasureRecord)).one()
    assert record.verified is False and ERASABLE["name"].lower() not in record.verification.lower()

    found = activities.find_expired_cases(ExpiredCasesQuery(as_of=now))
    assert found.case_ids == [old]  # not verified: taken up again
    assert not activities.erase_case(request).skipped
    assert activities.verify_erasure(old).verified
    assert ERASABLE["name"].lower() not in text_in_database(engine)
    assert count(engine, AuditEntry, AuditEntry.action == ERASED_ACTION) == 1
    assert activities.find_expired_cases(ExpiredCasesQuery(as_of=now)).case_ids == []


def test_retention_period_is_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VCS_RETENTION_DAYS", "365")
    assert configured_retention_days() == 365
    for bad in ("0", "-5", "two years", ""):
        monkeypatch.setenv("VCS_RETENTION_DAYS", bad)
        with pytest.raises(ValueError, match="VCS_RETENTION_DAYS"):
            configured_retention_days()


ONE_HOUR_EITHER_WAY = (timedelta(0), timedelta(hours=1), timedelta(hours=-1))


# ---- schedules (dev server) --------------------------------------------------------------------


async def delete_schedules(client: Client) -> None:
    for job in schedules.JOBS.values():
        with contextlib.suppress(RPCError):
            await client.get_schedule_handle(job.schedule_id).delete()


@pytest.fixture
async def no_schedules(local_env: WorkflowEnvironment) -> AsyncIterator[Client]:
    """The dev server is shared by the session: each test starts and ends without schedules."""
    await delete_schedules(local_env.client)
    yield local_env.client
    await delete_schedules(local_env.client)


async def last_run_id(client: Client, name: str, previous: int = 0) -> str:
    """The workflow ID of the schedule's newest run, once there are more than `previous`."""
    for _ in range(200):
        info = (await client.get_schedule_handle(schedules.JOBS[name].schedule_id).describe()).info
        if len(info.recent_actions) > previous:
            action = info.recent_actions[-1].action
            assert isinstance(action, ScheduleActionExecutionStartWorkflow)
            return action.workflow_id
        await asyncio.sleep(0.1)
    raise AssertionError(f"schedule {name} did not start a run")


async def test_ensure_schedules_is_idempotent_and_keeps_an_operators_pause(
    no_schedules: Client, engine: Engine, task_queue: str, reports_dir: Path
) -> None:
    client = no_schedules
    await schedules.ensure_schedules(client, task_queue)
    await schedules.ensure_schedules(client, task_queue)  # again: updated, not refused

    reconciliation = await client.get_schedule_handle("vcs-daily-reconciliation").describe()
    [daily] = reconciliation.schedule.spec.calendars
    assert (daily.hour, daily.minute) == ((ScheduleRange(6),), (ScheduleRange(0),))
    assert reconciliation.schedule.spec.time_zone_name == "Europe/London"
    assert reconciliation.schedule.policy.overlap is ScheduleOverlapPolicy.SKIP
    daily_runs = reconciliation.info.next_action_times[:3]
    assert all((r.hour, r.minute) in ((5, 0), (6, 0)) for r in daily_runs)
    action = reconciliation.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert (action.workflow, action.task_queue) == ("DailyReconciliation", task_queue)

    retention = await client.get_schedule_handle("vcs-retention").describe()
    [weekly] = retention.schedule.spec.calendars
    assert weekly.day_of_week == (ScheduleRange(0),) and weekly.hour == (ScheduleRange(3),)
    assert retention.schedule.spec.time_zone_name == "Europe/London"
    # 03:00 in London is 03:00 UTC in winter, 02:00 in summer: every Sunday, a week apart.
    runs = retention.info.next_action_times[:4]
    assert len(runs) == 4
    assert all(r.weekday() == 6 and (r.hour, r.minute) in ((2, 0), (3, 0)) for r in runs)
    assert all(timedelta(days=7) - (b - a) in ONE_HOUR_EITHER_WAY for a, b in pairwise(runs))

    # A pause survives the next worker start; the spec follows the current code (task queue).
    await schedules.pause(client, "reconciliation", "ops.smith")
    other_queue = f"{task_queue}-moved"
    await schedules.ensure_schedules(client, other_queue)
    moved = await client.get_schedule_handle("vcs-daily-reconciliation").describe()
    assert moved.schedule.state.paused and moved.schedule.state.note == "paused by ops.smith"
    assert isinstance(moved.schedule.action, ScheduleActionStartWorkflow)
    assert moved.schedule.action.task_queue == other_queue
    await schedules.ensure_schedules(client, task_queue)
    await schedules.unpause(client, "reconciliation", "ops.smith")
    status = await schedules.describe(client, "reconciliation")
    for _ in range(50):  # the server applies a schedule patch a moment after accepting it
        if not status.paused:
            break
        await asyncio.sleep(0.1)
        status = await schedules.describe(client, "reconciliation")
    assert not status.paused and status.next_run is not None

    # Trigger runs the job now, on the worker, even with its schedule paused.
    await schedules.pause(client, "reconciliation", "ops.smith")
    today = london_today()
    case_id, case_ref = seed_case(engine, "South West")
    task_id = seed_task(engine, case_id, today - timedelta(days=2))
    async with build_worker(client, engine, task_queue):
        await schedules.trigger(client, "reconciliation")
        workflow_id = await last_run_id(client, "reconciliation")
        result = await client.get_workflow_handle(
            workflow_id, result_type=ReconciliationResult
        ).result()
    assert workflow_id.startswith("vcs-reconciliation-")
    assert (result.tasks, result.overdue) == (1, 1)
    with session_scope(engine) as session:
        row = session.exec(select(ReconciliationReport)).one()
    assert (row.task_id, row.case_ref, row.region, row.days_overdue) == (
        task_id,
        case_ref,
        "South West",
        2,
    )
    assert (reports_dir / "reconciliation" / f"{row.report_date}_south-west_overdue.csv").is_file()
    status = await schedules.describe(client, "reconciliation")
    assert status.paused and status.last_workflow_id == workflow_id


# The CLI's service identity for the scheduled jobs (a manager's role: service/access.py).
OPS = vlo_actor("ops.smith", role=Role.VLO_MANAGER)


class Cli:
    """`starter.py schedules ...` as an operator types it; stderr is one line on refusal."""

    def __init__(self, vcs: Vcs, capsys: pytest.CaptureFixture[str]) -> None:
        self.vcs = vcs
        self.capsys = capsys

    async def __call__(self, *argv: str) -> tuple[int, list[str], str]:
        self.capsys.readouterr()
        lines: list[str] = []
        code = await starter.run(list(argv), vcs=self.vcs, out=lines.append, actor=OPS)
        err = self.capsys.readouterr().err
        if code == 0:
            assert err == ""
        else:
            assert err.startswith("error: ") and err.count("\n") == 1, err
        return code, lines, err.strip()


async def test_cli_schedules_list_pause_unpause_trigger(
    no_schedules: Client,
    engine: Engine,
    task_queue: str,
    reports_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = no_schedules
    cli = Cli(Vcs(client, engine, task_queue), capsys)

    code, out, err = await cli("schedules", "list")
    assert code == 2 and out == []
    assert err == (
        "error: schedule vcs-daily-reconciliation does not exist: "
        "start the worker, which creates it"
    )

    await schedules.ensure_schedules(client, task_queue)
    code, out, _ = await cli("schedules", "list")
    assert code == 0 and len(out) == 4
    assert out[0].startswith("reconciliation") and "vcs-daily-reconciliation" in out[0]
    assert out[1].startswith("retention") and "vcs-retention" in out[1]
    assert out[2].startswith("delivery-status") and "every hour" in out[2]
    assert out[3].startswith("audit-heads") and "vcs-audit-heads" in out[3]
    assert all(" active " in line and "; next " in line for line in out)

    code, out, _ = await cli("schedules", "pause", "retention")
    assert code == 0 and out == [
        "retention (vcs-retention) paused: no run starts until it is unpaused"
    ]
    code, out, _ = await cli("schedules", "list", "retention")
    assert code == 0 and len(out) == 1
    assert " paused " in out[0] and "note: paused by ops.smith" in out[0]
    assert (await client.get_schedule_handle("vcs-retention").describe()).schedule.state.paused

    code, out, err = await cli("schedules", "pause")
    assert (code, out) == (2, [])
    assert err == (
        "error: schedules pause needs a NAME: "
        "reconciliation or retention or delivery-status or audit-heads"
    )
    code, out, err = await cli("schedules", "trigger", "payroll")
    assert (code, out) == (2, [])
    assert "invalid choice: 'payroll'" in err and "starter.py schedules --help" in err

    # As scheduled: the configured period, the workflow's own clock (the real one here).
    now = datetime.now(UTC)
    old, _ = seed_case(engine, "Wales", closed_at=now - timedelta(days=731))
    recent, _ = seed_case(engine, "Wales", closed_at=now - timedelta(days=729))
    seed_victim(engine, old, ERASABLE["name"], ERASABLE["address"], letter=ERASABLE["letter"])
    seed_victim(engine, recent, KEPT["recent_name"], KEPT["recent_address"])
    async with build_worker(client, engine, task_queue):
        code, out, _ = await cli("schedules", "trigger", "retention")
        assert code == 0 and out[0].startswith("retention (vcs-retention) triggered")
        workflow_id = await last_run_id(client, "retention")
        result = await client.get_workflow_handle(workflow_id, result_type=RetentionResult).result()
    assert (result.retention_days, result.progress.cases_erased) == (730, 1)
    assert [f[0] for f in victim_fields(engine, old)] == [ERASED]
    assert [f[0] for f in victim_fields(engine, recent)] == [KEPT["recent_name"]]

    code, out, _ = await cli("schedules", "unpause", "retention")
    assert code == 0 and out[0].startswith("retention (vcs-retention) unpaused")
    code, out, _ = await cli("schedules", "list", "retention")
    assert " active " in out[0] and f"({workflow_id})" in out[0]
    assert not (await client.get_schedule_handle("vcs-retention").describe()).schedule.state.paused
