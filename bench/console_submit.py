"""What the console adds to a VLO's action (issue 14 §7: "the latency a VLO sees for a form
submit compared with the same action through the service layer directly; target: the console
adds under 20%"). Run by bench/console.py --submit.

Two actions, each taken `pairs` times through each path, interleaved (ABBA, so drift on the
shared machine falls on both): recording a licence condition on a case, and recording the
outcome of an offer task (which closes the task, sends the offer letter and moves the victim's
stage). Through the console: the form's POST over httpx's ASGI transport (session, CSRF, the
access check, the form's parsing, the service call, the redirect), signed in as vlo.demo;
directly: the same service call with the same actor. Then the case page the POST redirects
to, with the engine's view of the case (what the VLO then waits for), timed apart.
One `temporal server start-dev`, one worker in a process of its own, a SQLite case database.
"""

import asyncio
import re
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

import httpx
from oidc_provider_mock import User, run_server_in_thread

from bench.common import OfferTaskWatcher, case_database, dev_server
from bench.processes import WorkerProcess
from models.records import LicenceConditionBase
from models.vocabulary import ConditionKind
from service.actor import Actor, Role
from service.vcs import Vcs
from tests.helpers import registration, victim
from web.app import create_app
from web.demo import DEMO_REGION, demo_claims
from web.settings import ConsoleSettings

ACTOR = Actor(id="vlo.demo", roles=frozenset({Role.VLO}), region=DEMO_REGION)
WARM_UP = 3
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
Row = tuple[str, float, float, float, float]  # action, console p50/p95, direct p50/p95


def p50_p95(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


async def timed(call: Awaitable[object]) -> float:
    """Wall time of the call, in ms (a coroutine does nothing until awaited)."""
    started = time.perf_counter()
    await call
    return (time.perf_counter() - started) * 1000


async def interleaved(
    pairs: int,
    console: Callable[[int], Awaitable[object]],
    direct: Callable[[int], Awaitable[object]],
) -> tuple[list[float], list[float]]:
    """`pairs` calls each way, ABBA; the first WARM_UP pairs are not kept."""
    through, straight = [], []
    for i in range(pairs + WARM_UP):
        if i % 2 == 0:
            a, b = await timed(console(2 * i)), await timed(direct(2 * i + 1))
        else:
            b, a = await timed(direct(2 * i)), await timed(console(2 * i + 1))
        if i >= WARM_UP:
            through.append(a)
            straight.append(b)
    return through, straight


async def run(workdir: Path, pairs: int, signed_in: Callable[..., Awaitable[None]]) -> list[Row]:
    today = date.today()
    async with dev_server(workdir) as server:
        engine = case_database(workdir / "cases")
        queue = f"bench-console-{uuid.uuid4().hex[:8]}"
        vcs = Vcs(server.client, engine, queue)
        worker = WorkerProcess(server.target, queue, "vcs", str(engine.url), workdir / "w.log")
        users = [User(sub=str(c.pop("sub")), claims=c) for c in demo_claims()]
        async with worker.running(), OfferTaskWatcher(engine) as watcher:
            with run_server_in_thread(user_claims=users) as idp:
                settings = ConsoleSettings.from_env(
                    {
                        "VCS_CONSOLE_MODE": "development",
                        "VCS_OIDC_ISSUER": f"http://localhost:{idp.server_port}",
                    }
                )
                app = create_app(settings, engine, vcs=vcs)
                async with httpx.AsyncClient(
                    mounts={"https://console": httpx.ASGITransport(app=app)},
                    base_url="https://console",
                ) as http:
                    await signed_in(http, "vlo.demo")
                    rows = await _measure(vcs, http, watcher, today, pairs)
        engine.dispose()
    return rows


async def _measure(
    vcs: Vcs, http: httpx.AsyncClient, watcher: OfferTaskWatcher, today: date, pairs: int
) -> list[Row]:
    sentenced = today - timedelta(days=300)
    conditions_case = f"SUBMIT-{uuid.uuid4().hex[:6]}"
    await vcs.register_case(registration(conditions_case, sentenced), ACTOR)
    form = await http.get(f"/cases/{conditions_case}/conditions")
    match = CSRF.search(form.text)
    assert match is not None, form.status_code
    csrf = match.group(1)
    starts = str(today + timedelta(days=30))
    fields = {"kind": "other", "victim_related": "no", "description": "Report weekly"}

    async def condition_by_console(_: int) -> None:
        data = {"csrf_token": csrf, **fields, "starts_on": starts, "ends_on": ""}
        answer = await http.post(f"/cases/{conditions_case}/conditions", data=data)
        assert answer.status_code == 303, answer.text[-500:]

    async def condition_directly(_: int) -> None:
        condition = LicenceConditionBase(
            kind=ConditionKind.OTHER,
            victim_related=False,
            description="Report weekly",
            starts_on=today + timedelta(days=30),
        )
        await vcs.record_conditions(conditions_case, [condition], ACTOR)

    rows = []
    through, straight = await interleaved(pairs, condition_by_console, condition_directly)
    rows.append(("record a licence condition", *p50_p95(through), *p50_p95(straight)))

    # One case with a victim for every task outcome recorded (each closes its offer task).
    offers: list[tuple[str, int]] = []
    for n in range(2 * (pairs + WARM_UP)):
        case_ref = f"TASK-{uuid.uuid4().hex[:6]}-{n}"
        await vcs.register_case(registration(case_ref, sentenced), ACTOR)
        victim_id, _ = await vcs.add_victim(case_ref, victim(f"Victim {n}"), ACTOR)
        offers.append((case_ref, await watcher.offer_task(victim_id)))
    await asyncio.sleep(2)  # every workflow has seen its task (bench/RESULTS.md §1: the race)

    async def outcome_by_console(i: int) -> None:
        case_ref, task_id = offers[i]
        data = {"csrf_token": csrf, "outcome": "phoned victim; offer explained"}
        answer = await http.post(f"/cases/{case_ref}/tasks/{task_id}/outcome", data=data)
        assert answer.status_code == 303, answer.text[-500:]

    async def outcome_directly(i: int) -> None:
        _, task_id = offers[i]
        await vcs.complete_task(task_id, ACTOR, "phoned victim; offer explained")

    through, straight = await interleaved(pairs, outcome_by_console, outcome_directly)
    rows.append(("record a task outcome", *p50_p95(through), *p50_p95(straight)))
    # The case page each POST leads to, with the engine's view of the case (its workflows'
    # queries), timed apart: the queries keep the worker busy for a moment afterwards.
    refs = [conditions_case] + [ref for ref, _ in offers]
    pages = [await timed(http.get(f"/cases/{refs[n % len(refs)]}")) for n in range(2 * pairs)]
    rows.append(("(the case page a POST leads to)", *p50_p95(pages), 0.0, 0.0))
    return rows


def table(rows: list[Row], pairs: int) -> str:
    lines = [
        f"{pairs} of each action through each path, interleaved; server-side times (ms)",
        "| action | console p50 | console p95 | direct p50 | direct p95 | console / direct p50 "
        "| console / direct p95 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for action, c50, c95, d50, d95 in rows:
        if d50:
            lines.append(
                f"| {action} | {c50:.1f} | {c95:.1f} | {d50:.1f} | {d95:.1f} "
                f"| {c50 / d50:.2f}x | {c95 / d95:.2f}x |"
            )
        else:
            lines.append(f"| {action} | {c50:.1f} | {c95:.1f} | | | | |")
    return "\n".join(lines)
