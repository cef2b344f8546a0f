"""The daily reconciliation: every open VLO task due today or overdue, across all open cases,
per region, as the VLOs' task list and the managers' overdue report.

Each run is stored in the ReconciliationReport table and written as CSV files under the reports
folder (`VCS_REPORTS_DIR`, default data/reports/):

    <reports>/reconciliation/<date>_<region>_tasks.csv     the VLOs' list: due today or overdue
    <reports>/reconciliation/<date>_<region>_overdue.csv   the managers' report: overdue only

A re-run for the same date replaces the rows and the files; it never adds to them. Every
region with an open case gets both files, so "nothing due" is a file with only a header.
Nothing here is personal data: task IDs, case references, kinds, dates and assignees.
"""

import csv
import hashlib
import os
import re
import tempfile
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, delete
from sqlmodel import select
from temporalio import activity

from models.case import OffenderCase
from models.db import session_scope
from models.records import VloTask
from models.reports import ReconciliationReport, ReconciliationResult, RegionSummary
from models.vocabulary import CaseStatus, TaskStatus

DEFAULT_REPORTS_DIR = Path(__file__).resolve().parent.parent / "data" / "reports"
SUBFOLDER = "reconciliation"

TASK_COLUMNS = (
    "task_id",
    "case_ref",
    "kind",
    "due_on",
    "status",
    "days_overdue",
    "assigned_to",
    "escalation_level",
)
OVERDUE_COLUMNS = (
    "task_id",
    "case_ref",
    "kind",
    "due_on",
    "days_overdue",
    "assigned_to",
    "escalation_level",
    "escalated",
)


def reports_dir() -> Path:
    return Path(os.environ.get("VCS_REPORTS_DIR") or DEFAULT_REPORTS_DIR)


def region_slug(region: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", region.lower()).strip("-") or "region"


def cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP 'CSV injection')."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(path: Path, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    """Write the whole file or nothing: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows([tuple(cell(v) for v in row) for row in rows])
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class ReportActivities:
    def __init__(self, engine: Engine, folder: Path | None = None) -> None:
        self.engine = engine
        self.folder = (folder or reports_dir()) / SUBFOLDER

    @activity.defn
    def reconcile_tasks(self, report_date: date) -> ReconciliationResult:
        """Store and write the report for `report_date`, replacing any earlier run's."""
        generated_at = datetime.now(UTC)
        with session_scope(self.engine) as session:
            found = session.exec(
                select(VloTask, OffenderCase.case_ref, OffenderCase.region)
                .join(OffenderCase, OffenderCase.id == VloTask.case_id)  # type: ignore[arg-type]
                .where(
                    VloTask.status == TaskStatus.OPEN,
                    OffenderCase.status == CaseStatus.OPEN,
                    VloTask.due_on <= report_date,
                )
                .order_by(OffenderCase.region, VloTask.due_on, VloTask.id)  # type: ignore[arg-type]
            ).all()
            regions = set(
                session.exec(
                    select(OffenderCase.region)
                    .where(OffenderCase.status == CaseStatus.OPEN)
                    .distinct()
                ).all()
            )
            session.exec(
                delete(ReconciliationReport).where(
                    ReconciliationReport.report_date == report_date  # type: ignore[arg-type]
                )
            )
            rows = [
                ReconciliationReport(
                    report_date=report_date,
                    region=region,
                    task_id=task.id,
                    case_ref=case_ref,
                    kind=task.kind,
                    due_on=task.due_on,
                    assigned_to=task.assigned_to,
                    escalation_level=task.escalation_level,
                    escalated=task.escalated,
                    overdue=task.due_on < report_date,
                    days_overdue=max((report_date - task.due_on).days, 0),
                    generated_at=generated_at,
                )
                for task, case_ref, region in found
                if task.id is not None
            ]
            session.add_all(rows)
        by_region: dict[str, list[ReconciliationReport]] = defaultdict(list)
        for row in rows:
            by_region[row.region].append(row)
        regions |= set(by_region)
        summaries = self._write_files(report_date, sorted(regions), by_region)
        activity.logger.info(
            "reconciliation %s: %d tasks due or overdue in %d regions",
            report_date,
            len(rows),
            len(summaries),
        )
        return ReconciliationResult(
            report_date=report_date,
            tasks=len(rows),
            overdue=sum(1 for r in rows if r.overdue),
            regions=summaries,
        )

    def _write_files(
        self,
        report_date: date,
        regions: list[str],
        by_region: dict[str, list[ReconciliationReport]],
    ) -> list[RegionSummary]:
        summaries: list[RegionSummary] = []
        written: set[str] = set()
        slugs: set[str] = set()
        for region in regions:
            slug = region_slug(region)
            if slug in slugs:  # two spellings, one slug: keep both files apart
                slug += "-" + hashlib.sha256(region.encode()).hexdigest()[:6]
            slugs.add(slug)
            rows = by_region.get(region, [])
            listing = sorted(rows, key=lambda r: (r.assigned_to, r.due_on, r.task_id))
            overdue = sorted(
                (r for r in rows if r.overdue),
                key=lambda r: (-r.days_overdue, -r.escalation_level, r.task_id),
            )
            tasks_file = f"{report_date.isoformat()}_{slug}_tasks.csv"
            overdue_file = f"{report_date.isoformat()}_{slug}_overdue.csv"
            write_csv(
                self.folder / tasks_file,
                TASK_COLUMNS,
                [
                    (
                        r.task_id,
                        r.case_ref,
                        r.kind.value,
                        r.due_on.isoformat(),
                        "overdue" if r.overdue else "due today",
                        r.days_overdue,
                        r.assigned_to,
                        r.escalation_level,
                    )
                    for r in listing
                ],
            )
            write_csv(
                self.folder / overdue_file,
                OVERDUE_COLUMNS,
                [
                    (
                        r.task_id,
                        r.case_ref,
                        r.kind.value,
                        r.due_on.isoformat(),
                        r.days_overdue,
                        r.assigned_to,
                        r.escalation_level,
                        "yes" if r.escalated else "no",
                    )
                    for r in overdue
                ],
            )
            written |= {tasks_file, overdue_file}
            summaries.append(
                RegionSummary(
                    region=region,
                    due_today=len(rows) - len(overdue),
                    overdue=len(overdue),
                    files=[tasks_file, overdue_file],
                )
            )
        # A re-run replaces: files of this date for a region no longer reported go.
        for stale in self.folder.glob(f"{report_date.isoformat()}_*.csv"):
            if stale.name not in written:
                stale.unlink(missing_ok=True)
        return summaries
