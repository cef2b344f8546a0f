"""The scale benchmark (bench/scale.py) on a few cases: each case is one workflow holding its
victims, the burst's stand-in for a due date opens one task per case, and the report reads as
tables against the issue's targets."""

import random

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from bench import scale_burst
from bench.common import Section
from bench.scale_burst import Burst, fall_due, handled
from bench.scale_cases import Population, Sample, ScaleVcs, case_ref, checkpoints, create_case
from bench.scale_report import Run, fill
from models.working_days import london_date
from tests.helpers import eventually, registration
from worker import MAX_CACHED_WORKFLOWS, build_worker
from workflows.case import CaseWorkflow, case_workflow_id


async def test_a_case_holds_a_victim_or_two_and_falls_due_once(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    client = time_skipping_env.client
    today = london_date(await time_skipping_env.get_current_time())
    vcs = ScaleVcs(client, engine, task_queue, env=time_skipping_env)
    first = random.randrange(100_000, 800_000, 2)  # even: one victim; the next, two
    async with build_worker(client, engine, task_queue):
        victims = {i: await create_case(vcs, i, today) for i in (first, first + 1)}
        assert [len(v) for v in victims.values()] == [1, 2]
        for i, ids in victims.items():
            handle = client.get_workflow_handle(case_workflow_id(case_ref(i)))
            views = await handle.query(CaseWorkflow.victim_views)
            assert sorted(v.victim_id for v in views) == ids
        before = handled(engine)
        for i, ids in victims.items():
            await fall_due(client, case_ref(i), ids[0])
            await fall_due(client, case_ref(i), ids[0])  # the same moment twice: one task
        await eventually(lambda: handled(engine) - before == 2)


class InProcess:
    """The burst weighs its worker: here the worker runs in the test's process."""

    def memory_mib(self) -> tuple[float, float]:
        return 1.0, 2.0


async def test_the_burst_waits_for_every_case_while_the_vlo_works(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scale_burst, "IDLE_SECONDS", 2.0)
    monkeypatch.setattr(scale_burst, "POLL_SECONDS", 0.2)
    client = time_skipping_env.client
    today = london_date(await time_skipping_env.get_current_time())
    vcs = ScaleVcs(client, engine, task_queue, env=time_skipping_env)
    first = random.randrange(100_000, 800_000, 4)
    async with build_worker(client, engine, task_queue):
        victims = {i: (await create_case(vcs, i, today))[0] for i in (first, first + 1)}
        vlo = case_ref(first + 2)  # the VLO's own case, outside the burst
        await create_case(vcs, first + 2, today)
        expiry = registration(vlo, today).licence_expiry_date
        assert expiry is not None
        result = await scale_burst.burst(
            vcs,
            InProcess(),
            victims,
            [vlo],
            expiry,
            case_ref,
        )
    assert result.handled == result.cases == 2
    assert result.done_seconds == result.timeline[-1][0]
    assert len(result.idle_ms) >= 2 and result.burst_ms
    assert result.vlo_errors == [] and result.signal_errors == []


def test_the_worker_is_weighed_at_the_issues_counts_and_once_the_cache_is_full() -> None:
    assert checkpoints(1_000) == [1_000]
    assert checkpoints(10_000) == [1_000, MAX_CACHED_WORKFLOWS, 3_000, 4_000, 6_000, 8_000, 10_000]
    assert checkpoints(30_000)[-3:] == [20_000, 25_000, 30_000]


def test_the_report_reads_as_tables_with_the_targets() -> None:
    def population(label: str, base: float, per_case_kib: float) -> Population:
        samples = [
            Sample(n, base + n * per_case_kib / 1024, base + 1, n * 1000, n / 10)
            for n in checkpoints(10_000)
        ]
        return Population(label, samples, [])

    burst = Burst(
        cases=10_000,
        signal_seconds=40.0,
        handled=10_000,
        done_seconds=900.0,
        timeline=[(0.0, 0), (100.0, 1_000), (800.0, 9_000), (900.0, 10_000)],
        idle_ms=[100.0] * 60,
        burst_ms=[250.0] * 900,
        vlo_errors=[],
        load=[3.0, 9.5],
        rss_mib=700.0,
        hwm_mib=720.0,
    )
    run = Run(
        floor=population("floor", 110, 0.5),
        ours=population("ours", 120, 1.5),
        burst=burst,
        database="SQLite",
    )
    section = Section("3. Scale")
    fill(section, run)
    text = section.markdown()
    assert "| 10,000 |" in text
    assert "RSS growth per case beyond the cache (KiB; slope, 2,000 to 10,000 cases) | 1.50" in text
    assert burst.rate_per_minute() == 8_000 / 700 * 60
    assert "VLO update p99, burst / idle | 2.50x | < 3x | met" in text
    assert "NOT met" in text  # 10,000 cases at 686 a minute take over 10 minutes
