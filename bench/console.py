"""The console's pages with 10,000 open cases (issue 14 §7): server-side render time of My
tasks, the case page and the outbox, p50 and p95, on SQLite and PostgreSQL; and, with
--submit, what a form submit costs against the same action through the service layer
(bench/console_submit.py: Temporal and a worker, a modest size).

    .venv/bin/python bench/console.py [--cases 10000] [--requests 200] [--postgres URL]
    .venv/bin/python bench/console.py --submit 30

The case database is filled directly (cases, a victim each, their enrolment, an open task each,
three audit entries each, letters waiting to post): the pages read the database only (the
console has no engine here: the case page's engine view is timed with --submit). The VLO and
the admin sign in through the real local identity provider; requests go to the console
in-process (httpx's ASGI transport), so the time is the console's own, not the network's.
Nothing here fails on a time.
"""

import argparse
import asyncio
import statistics
import time
from datetime import UTC, date, datetime, timedelta

import httpx
from oidc_provider_mock import User, run_server_in_thread
from sqlalchemy import Engine, create_engine, make_url, text
from sqlmodel import Session

from models.case import OffenderCase
from models.db import create_tables, make_engine
from models.records import AuditEntry, Correspondence, VloTask
from models.victim import Enrolment, Victim
from models.vocabulary import (
    Channel,
    Language,
    LetterKind,
    SentenceType,
    Stage,
    TaskKind,
)
from web.app import create_app
from web.demo import DEMO_REGION, demo_claims
from web.settings import ConsoleSettings

OTHER_REGIONS = ("Wales", "London", "North West")
VLOS = [f"vlo.{n:03d}" for n in range(60)] + ["vlo.demo"]


def fill(engine: Engine, cases: int) -> str:
    """`cases` open cases across four regions; returns a case of the demo VLO's."""
    now, today = datetime.now(UTC), date.today()
    with Session(engine) as session:
        for n in range(cases):
            region = DEMO_REGION if n % 4 == 0 else OTHER_REGIONS[n % 3]
            vlo = VLOS[n % len(VLOS)]
            case = OffenderCase(
                case_ref=f"BENCH-{n:06d}",
                region=region,
                responsible_vlo=vlo,
                sentence_type=SentenceType.IMPRISONMENT,
                term_months=36,
                sentence_date=today - timedelta(days=n % 300),
                conditional_release_date=today + timedelta(days=400 + n % 300),
                licence_expiry_date=today + timedelta(days=900 + n % 300),
                sentence_expiry_date=today + timedelta(days=900 + n % 300),
                eligibility_basis="statutory",
                eligibility_reason="s 35",
                registered_at=now,
            )
            session.add(case)
            session.flush()
            assert case.id is not None
            victim = Victim(
                case_id=case.id, full_name=f"Bench Victim {n}", address="1 Street", added_at=now
            )
            session.add(victim)
            session.flush()
            assert victim.id is not None
            session.add(
                Enrolment(
                    victim_id=victim.id,
                    case_id=case.id,
                    workflow_id=f"vcs-victim-{case.case_ref}-{victim.id}",
                    stage=Stage.OFFERED,
                    updated_at=now,
                )
            )
            session.add(
                VloTask(
                    task_key=f"bench-{n}",
                    workflow_id=f"vcs-victim-{case.case_ref}-{victim.id}",
                    case_id=case.id,
                    victim_id=victim.id,
                    kind=TaskKind.OFFER_SCHEME,
                    title="Contact victim to offer the Victim Contact Scheme",
                    assigned_to=vlo,
                    due_on=today + timedelta(days=n % 60 - 10),
                    created_at=now,
                )
            )
            for step, action in enumerate(("case_registered", "victim_added", "task_opened")):
                session.add(
                    AuditEntry(
                        case_id=case.id,
                        victim_id=None if step == 0 else victim.id,
                        actor=vlo if step < 2 else "engine",
                        action=action,
                        detail=f'{{"victim":{victim.id}}}' if step else "",
                        at=now,
                        sequence=step + 1,
                    )
                )
            if n % 50 == 0:
                session.add(
                    Correspondence(
                        idempotency_key=f"bench-letter-{n}",
                        case_id=case.id,
                        victim_id=victim.id,
                        kind=LetterKind.OFFER,
                        channel=Channel.LETTER,
                        language=Language.ENGLISH,
                        body=f"Bench Victim {n}\n1 Street\n\nDear Bench Victim {n},\n\nWords.",
                        created_at=now,
                    )
                )
            if n % 1000 == 999:
                session.commit()
        session.commit()
    return f"BENCH-{VLOS.index('vlo.demo') * 4:06d}"  # a Yorkshire case of vlo.demo's


async def signed_in(client: httpx.AsyncClient, subject: str) -> None:
    """Sign in as people do: the console sends us to the provider, we authorize, and back."""
    response = await client.get("https://console/sign-in")
    authorize = response.headers["location"]
    async with httpx.AsyncClient() as idp:
        answer = await idp.post(authorize, data={"sub": subject})
    back = await client.get(answer.headers["location"])
    assert back.status_code == 303, back.text


async def timed(client: httpx.AsyncClient, path: str, requests: int) -> tuple[float, float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = await client.get(f"https://console{path}")
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


async def run(url: str, cases: int, requests: int) -> list[tuple[str, str, float, float]]:
    engine = make_engine(url)
    create_tables(engine)
    case_ref = fill(engine, cases)
    users = [User(sub=str(c.pop("sub")), claims=c) for c in demo_claims()]
    results = []
    with run_server_in_thread(user_claims=users) as server:
        issuer = f"http://localhost:{server.server_port}"
        settings = ConsoleSettings.from_env(
            {"VCS_CONSOLE_MODE": "development", "VCS_OIDC_ISSUER": issuer}
        )
        app = create_app(settings, engine)
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        for subject, pages in (
            ("vlo.demo", {"My tasks": "/tasks", "Case page": f"/cases/{case_ref}"}),
            ("admin.clarke", {"Outbox": "/outbox"}),
        ):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                mounts={"https://console": transport}, base_url="https://console"
            ) as client:
                await signed_in(client, subject)
                for name, path in pages.items():
                    p50, p95 = await timed(client, path, requests)
                    results.append((backend, name, p50, p95))
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/console.py", description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument(
        "--submit", type=int, metavar="PAIRS", help="time form submits against the service"
    )
    args = parser.parse_args()
    import tempfile

    if args.submit:
        import sys
        from pathlib import Path

        # Run as a script: make the repository importable (bench, tests), as bench/run.py does.
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from bench import console_submit

        with tempfile.TemporaryDirectory() as folder:
            measured = asyncio.run(console_submit.run(Path(folder), args.submit, signed_in))
        print(console_submit.table(measured, args.submit))
        return

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows += asyncio.run(run(f"sqlite:///{folder}/bench.db", args.cases, args.requests))
    name = f"vcs_bench_console_{int(time.time())}"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
        rows += asyncio.run(run(url, args.cases, args.requests))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"{args.cases} open cases, {args.requests} requests a page, server-side render (ms)")
    print(f"{'database':<11} {'page':<10} {'p50':>7} {'p95':>7}")
    for backend, page, p50, p95 in rows:
        print(f"{backend:<11} {page:<10} {p50:7.1f} {p95:7.1f}")


if __name__ == "__main__":
    main()
