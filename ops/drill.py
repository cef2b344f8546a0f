"""The restore drill (bin/restore-drill): a case in progress is backed up, everything is
stopped and dropped, restored into a fresh database and a fresh Temporal server process on the
restored file, and the case continues where it was.

    bin/restore-drill [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

1. a Temporal dev server on a SQLite file, a new PostgreSQL case database at head, a worker;
2. the VLO registers a case and adds a victim: the victim's workflow opens the offer task;
3. backup (ops/backup.py) while the server and the worker run, as in production;
4. the worker and the server are stopped, the database dropped, Temporal's file deleted;
5. restore into a new database and a new file; a new server and a new worker start on them;
   the victim's workflow has the history it had (as many events), the task is open, no letter;
6. the VLO completes the offer task: the restored victim workflow takes the update, the offer
   letter goes out, and exactly one offer letter is in the outbox.

Everything it makes (databases named vcs_drill_*, a temporary folder) is removed at the end.
The case is made up: no real person's data. Exit status 0 when the case continued, 1 if not.
"""

import argparse
import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session, select

from models.case import OffenderCase
from models.records import Correspondence, VloTask
from models.vocabulary import LetterKind, TaskKind, TaskStatus
from models.working_days import london_today
from workflows.case import case_workflow_id

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TEMPORAL = str(Path(PYTHON).parent / "temporal")
DEFAULT_POSTGRES = os.environ.get(
    "VCS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class DrillFailed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Drill:
    def __init__(self, postgres: str, folder: Path) -> None:
        self.admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
        self.postgres = postgres
        self.folder = folder
        self.name = f"vcs_drill_{uuid.uuid4().hex[:10]}"
        self.case_ref = f"DRILL-{uuid.uuid4().hex[:6].upper()}"
        self.databases: list[str] = []
        self.processes: list[subprocess.Popen[bytes]] = []
        self.engines: dict[str, Engine] = {}
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        self.env = {
            **os.environ,
            "VCS_CODEC_KEYS": f"drill:{key}",  # the key lives outside the backup, as in production
            "VCS_CODEC_ACTIVE_KEY": "drill",
            "VCS_TASK_QUEUE": f"drill-{uuid.uuid4().hex[:8]}",
            "VCS_METRICS_ADDRESS": "",
            "VCS_TEMPORAL_METRICS_ADDRESS": "",
            "PYTHONPATH": str(ROOT),
        }

    # ---- processes and databases ----------------------------------------------------------

    def database(self, suffix: str) -> str:
        name = f"{self.name}_{suffix}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.databases.append(name)
        return make_url(self.postgres).set(database=name).render_as_string(hide_password=False)

    def drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def run(self, *command: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            command, env=self.env, cwd=ROOT, capture_output=True, text=True, input=stdin
        )
        if done.returncode != 0:
            raise DrillFailed(f"{' '.join(command[1:3])}: {done.stderr.strip()[-500:]}")
        return done.stdout

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """The command line as ops run it: a named service identity, personal data and free
        text on standard input, never in argv."""
        identity = {
            "VCS_CLI_IDENTITY": "ops.drill",
            "VCS_CLI_ROLES": "vlo",
            "VCS_CLI_REGION": "Yorkshire and the Humber",
        }
        self.env.update(identity)
        return self.run(PYTHON, "starter.py", *args, stdin=stdin)

    def backup_tool(self, action: str, folder: Path, temporal_db: Path) -> None:
        """bin/backup or bin/restore, as an operator runs them."""
        self.run(str(ROOT / "bin" / action), str(folder), "--temporal-db", str(temporal_db))

    def start(self, command: list[str], log: str) -> subprocess.Popen[bytes]:
        with (self.folder / log).open("ab") as out:
            process = subprocess.Popen(
                command, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def start_temporal(self, db_file: Path) -> subprocess.Popen[bytes]:
        port = free_port()
        db_file.parent.mkdir(parents=True, exist_ok=True)
        self.env["TEMPORAL_ADDRESS"] = f"127.0.0.1:{port}"
        process = self.start(
            [TEMPORAL, "server", "start-dev", "--db-filename", str(db_file), "--ip", "127.0.0.1",
             "--port", str(port), "--headless", "--log-level", "warn"],
            "temporal.log",
        )  # fmt: skip
        for _ in range(120):
            health = subprocess.run(
                [TEMPORAL, "operator", "cluster", "health", "--address", f"127.0.0.1:{port}"],
                capture_output=True,
            )
            if health.returncode == 0:
                return process
            time.sleep(0.25)
        raise DrillFailed("the Temporal dev server did not start (see temporal.log)")

    def start_worker(self) -> subprocess.Popen[bytes]:
        return self.start([PYTHON, "worker.py"], "worker.log")

    # ---- the case ---------------------------------------------------------------------------

    def session(self) -> Session:
        url = self.env["VCS_DATABASE_URL"]
        if url not in self.engines:
            self.engines[url] = create_engine(url, poolclass=NullPool)
        return Session(self.engines[url])

    def offer_task(self, timeout: float = 60) -> tuple[int, int]:
        """The victim's offer task (its id, the victim's), once the victim's workflow has
        opened it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.session() as session:
                task = session.exec(
                    select(VloTask.id, VloTask.victim_id)
                    .join(OffenderCase)
                    .where(OffenderCase.case_ref == self.case_ref)
                    .where(VloTask.kind == TaskKind.OFFER_SCHEME)
                ).first()
            if task is not None and task[0] is not None and task[1] is not None:
                return task[0], task[1]
            time.sleep(0.25)
        raise DrillFailed("the offer task was never opened (see worker.log)")

    def offer_letters(self) -> int:
        with self.session() as session:
            return len(
                session.exec(
                    select(Correspondence.id)
                    .join(OffenderCase)
                    .where(OffenderCase.case_ref == self.case_ref)
                    .where(Correspondence.kind == LetterKind.OFFER)
                ).all()
            )

    def settled_history(self, workflow_id: str, timeout: float = 30) -> int:
        """The workflow's history length once nothing is in flight (no workflow task or
        activity pending, the same length twice)."""
        deadline, last = time.monotonic() + timeout, -1
        while time.monotonic() < deadline:
            out = self.run(
                TEMPORAL, "workflow", "describe", "-w", workflow_id, "-o", "json",
                "--address", self.env["TEMPORAL_ADDRESS"],
            )  # fmt: skip
            described = json.loads(out)
            length = int(described["workflowExecutionInfo"]["historyLength"])
            busy = described.get("pendingActivities") or described.get("pendingWorkflowTask")
            if not busy and length == last:
                return length
            last = length
            time.sleep(0.25)
        raise DrillFailed(f"{workflow_id} never settled")

    def task_done(self, task_id: int) -> bool:
        with self.session() as session:
            task = session.get(VloTask, task_id)
            return task is not None and task.status == TaskStatus.DONE

    # ---- the drill --------------------------------------------------------------------------

    def step(self, message: str) -> None:
        print(f"[{time.monotonic() - self.began:5.1f}s] {message}", flush=True)

    def go(self) -> None:
        self.began = time.monotonic()
        temporal_db = self.folder / "before" / "temporal.db"
        self.env["VCS_DATABASE_URL"] = self.database("before")
        server = self.start_temporal(temporal_db)
        self.run(PYTHON, "-m", "models.migrate")
        self.run(PYTHON, "-m", "workflows.search")
        worker = self.start_worker()
        self.step(f"Temporal on {temporal_db.name}, case database {self.name}_before, worker up")

        today = london_today()
        self.cli(
            "register-case", "--case-ref", self.case_ref, "--region", "Yorkshire and the Humber",
            "--sentence-type", "imprisonment", "--term-months", "30",
            "--sentence-date", str(today - timedelta(days=30)),
            "--crd", str(today + timedelta(days=400)), "--led", str(today + timedelta(days=800)),
            "--sed", str(today + timedelta(days=800)),
            "--offence", "sch15_violent:Wounding with intent",
        )  # fmt: skip
        victim = {
            "full_name": "Drill Victim",
            "address": "1 Drill Street, Leeds",
            "postcode": "LS1 1AA",
        }
        self.cli("add-victim", "--case", self.case_ref, "--details", "-", stdin=json.dumps(victim))
        task_id, victim_id = self.offer_task()
        case_workflow = case_workflow_id(self.case_ref)  # the victim's path is in it
        events = self.settled_history(case_workflow)
        self.step(
            f"case {self.case_ref} registered; victim {victim_id} added; offer task {task_id} "
            f"open ({case_workflow}: {events} events)"
        )

        backup = self.folder / "backup"
        self.backup_tool("backup", backup, temporal_db)
        self.step("backed up (Temporal's file, then the case database) with both running")

        self.stop(worker)
        self.stop(server)
        self.drop(f"{self.name}_before")
        temporal_db.unlink()
        for leftover in temporal_db.parent.glob("temporal.db-*"):
            leftover.unlink()  # its WAL and shared-memory files: nothing of the old server stays
        self.step("worker and Temporal stopped; case database dropped; Temporal's file deleted")

        restored_db = self.folder / "after" / "temporal.db"
        self.env["VCS_DATABASE_URL"] = self.database("after")
        self.backup_tool("restore", backup, restored_db)
        self.start_temporal(restored_db)
        self.start_worker()
        self.step(f"restored into {self.name}_after and a new file; a new server and worker up")

        restored_events = self.settled_history(case_workflow)
        if restored_events != events or self.offer_letters() != 0 or self.task_done(task_id):
            raise DrillFailed(
                f"the restored case is not where it was: {restored_events} events (was "
                f"{events}), {self.offer_letters()} offer letters, task {task_id} done or not"
            )
        answer = self.cli(
            "complete-task", "--task", str(task_id), "--case", self.case_ref, "--text-file", "-",
            stdin="phoned; offer explained",
        )  # fmt: skip
        if "offer letter" not in answer:
            raise DrillFailed(f"completing the offer task did not send the offer: {answer!r}")
        time.sleep(1)  # anything sent twice would be in the outbox by now
        letters = self.offer_letters()
        if letters != 1 or not self.task_done(task_id):
            raise DrillFailed(f"{letters} offer letters after the restore (expected exactly 1)")
        self.step(f"after the restore: task {task_id} completed, exactly one offer letter sent")

    def clean_up(self) -> None:
        for process in reversed(self.processes):
            self.stop(process)
        for name in self.databases:
            with suppress(Exception):
                self.drop(name)
        self.admin.dispose()


@contextmanager
def drill_folder(keep: bool) -> Iterator[Path]:
    if keep:
        yield Path(tempfile.mkdtemp(prefix="vcs-drill-"))
    else:
        with tempfile.TemporaryDirectory(prefix="vcs-drill-") as folder:
            yield Path(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="restore-drill", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres", default=DEFAULT_POSTGRES, help="a login that may create databases"
    )
    parser.add_argument("--keep", action="store_true", help="keep the folder (logs, backup)")
    args = parser.parse_args(argv)
    with drill_folder(args.keep) as folder:
        drill = Drill(args.postgres, folder)
        try:
            drill.go()
        except DrillFailed as err:
            print(f"restore drill FAILED: {err}", file=sys.stderr)
            for log in ("worker.log", "temporal.log"):
                with suppress(OSError):
                    tail = (folder / log).read_text(errors="replace").splitlines()[-15:]
                    print(f"--- {log} (last lines)", *tail, sep="\n", file=sys.stderr)
            return 1
        finally:
            drill.clean_up()
    print("restore drill passed: the restored case continued where it was")
    return 0


if __name__ == "__main__":
    sys.exit(main())
