"""A case with many victims: they live in the case's workflow (workflows/case_victims.py), so
one release is one update that tells every opted-in victim, each exactly once, even when the
worker is SIGKILLed while the letters are going out. Counted at the receiving end, the fake GOV.UK
Notify (tests/fake_notify.py), with the processes of tests/test_faults.py."""

import asyncio
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest

import service.temporal
from activities import notify
from models.ids import victim_key
from models.vocabulary import Channel, ContactLevel, LetterKind, Stage
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.fake_notify import serving_in_thread
from tests.helpers import VLO_ACTOR, eventually, registration, stage, victim
from tests.test_faults import (
    SETTLE_SECONDS,
    TEST_UPDATE_TIMEOUT,
    DevServer,
    PatientVlo,
    WorkerProcess,
    letter_rows,
    sqlite_engine,
)
from workflows.case import CaseWorkflow, case_workflow_id

VICTIMS = 30
# The worker is killed once this many release emails have reached Notify: mid-batch.
KILL_AFTER = 8


async def test_one_release_tells_thirty_victims_once_each_through_a_worker_kill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thirty victims who chose email are offered the scheme and opt in. The release is
    recorded once (a date last month, so the letter, which names the month only, is due
    today); while its letters go out the worker is SIGKILLed and started again. Every victim
    is told once: one release letter each in the outbox, one email each at Notify, none twice,
    none lost; the VLO's repeated action is found done."""
    monkeypatch.setattr(service.temporal, "UPDATE_TIMEOUT", TEST_UPDATE_TIMEOUT)
    server = DevServer(tmp_path)
    worker: WorkerProcess | None = None
    with serving_in_thread() as fake, sqlite_engine(tmp_path / "vcs.db") as (engine, url):
        try:
            server.start()
            client = await server.connect()
            worker = WorkerProcess(tmp_path, server, url, fake.env())
            worker.start()
            await worker.wait_ready()
            vcs = Vcs(client, engine, worker.task_queue)
            vlo = PatientVlo(vcs)

            today = date.today()
            case_ref = unique_ref("MANY")
            await vcs.register_case(
                registration(case_ref, today - timedelta(days=120)), actor=VLO_ACTOR
            )
            victim_ids = []
            for number in range(VICTIMS):
                email = f"victim.{number}@example.org"
                person = victim(
                    f"Victim {number}",
                    postcode=f"LS{number} 1AA",
                    preferred_channel=Channel.EMAIL,
                    email=email,
                )
                victim_id, added = await vcs.add_victim(case_ref, person, actor=VLO_ACTOR)
                assert added.offer_task_id is not None
                await vcs.complete_task(added.offer_task_id, VLO_ACTOR, "emailed the offer")
                await vcs.opt_in(victim_id, ContactLevel.ALL_KEY_STAGES, actor=VLO_ACTOR)
                victim_ids.append(victim_id)
            assert all(stage(engine, v) is Stage.OPTED_IN for v in victim_ids)
            assert len(fake.notifications) == 2 * VICTIMS  # offer and opt-in confirmation

            release_refs = {
                notify.reference_for(f"{victim_key(case_ref, v)}:letter:release")
                for v in victim_ids
            }
            killed = threading.Event()

            def on_record() -> None:
                """On Notify's thread, as it takes an email: the kill lands mid-batch."""
                told = sum(1 for n in fake.notifications if n["reference"] in release_refs)
                if told >= KILL_AFTER and not killed.is_set() and worker is not None:
                    killed.set()
                    worker.signal_kill()

            fake.on_record = on_record
            fake.respond_delay = 0.05
            released_on = today - timedelta(days=35)

            async def restart_once_killed() -> None:
                """The worker comes back a moment after the kill, as a supervisor brings it."""
                assert worker is not None
                for _ in range(int(SETTLE_SECONDS * 10)):
                    if killed.is_set():
                        break
                    await asyncio.sleep(0.1)
                assert killed.is_set(), "the worker was not killed while the letters went out"
                await worker.kill()  # reaped
                worker.start()
                await worker.wait_ready()

            # The VLO repeats the release while nobody answers, as the error message says.
            async with asyncio.TaskGroup() as group:
                group.create_task(restart_once_killed())
                group.create_task(
                    vlo.act(
                        "record the release",
                        lambda: vcs.record_release(case_ref, released_on, actor=VLO_ACTOR),
                        done=r"is already recorded",
                    )
                )

            def all_told() -> bool:
                return all(
                    [r.kind for r in letter_rows(engine, v) if r.sent_at is not None]
                    == [LetterKind.OFFER, LetterKind.OPT_IN_CONFIRMED, LetterKind.RELEASE]
                    for v in victim_ids
                )

            await eventually(all_told, timeout=SETTLE_SECONDS)
            print(
                f"{vlo.refused_unavailable} refused as unavailable; repeats found done: "
                f"{vlo.repeats_found_done}; Notify look-ups that found a message already sent: "
                f"{fake.lookups_found}"
            )
            sent = [n["reference"] for n in fake.notifications]
            for victim_id in victim_ids:
                rows = letter_rows(engine, victim_id)
                assert [r.kind for r in rows] == [
                    LetterKind.OFFER,
                    LetterKind.OPT_IN_CONFIRMED,
                    LetterKind.RELEASE,
                ], f"victim {victim_id}"
                for row in rows:
                    reference = notify.reference_for(row.idempotency_key)
                    assert sent.count(reference) == 1, f"victim {victim_id}: {row.kind.value}"
                    [message] = fake.sent_with(reference)
                    assert (
                        message["recipient"] == f"victim.{victim_ids.index(victim_id)}@example.org"
                    )
            assert len(sent) == 3 * VICTIMS  # nothing else, nothing twice
            view = await client.get_workflow_handle(case_workflow_id(case_ref)).query(
                CaseWorkflow.view
            )
            assert view.milestones.release_date == released_on
            assert worker.starts == 2
        finally:
            if worker is not None:
                worker.kill_now()
            server.kill_now()
