"""Production access below the application (issue 16): secrets read from compose secret
files, the client credentials a process presents to Temporal, and the health endpoints the
compose healthchecks call (real HTTP)."""

import asyncio
import base64
import functools
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.notify import config_from_env
from models.codec import KeyRing, load_keys
from models.db import database_url, make_engine
from models.health import HEALTH_PORT, probe, serve_health
from models.secret_files import SecretFileError, secret
from models.temporal_access import keep_api_key_fresh
from tests.browser import console, free_port
from tests.fake_notify import API_KEY, SERVICE_ID
from tests.helpers import eventually
from web.settings import ConsoleSettings
from worker import build_worker, connect

# A JWT as the identity provider would issue to the worker's service account (its content
# does not matter to the client: the server's authorizer checks it).
WORKER_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ2Y3Mtd29ya2VyIn0.c2lnbmF0dXJl"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ---- secrets from files -----------------------------------------------------------------------


def test_secret_comes_from_the_file_named_by_name_file(tmp_path: Path) -> None:
    """Issue 16 item 3: secrets as compose `secrets:` files, not environment variables."""
    secret_file = write(tmp_path / "db_url", "postgresql+psycopg://vcs:pw@db/vcs\n")
    env = {"VCS_DATABASE_URL_FILE": str(secret_file), "VCS_DATABASE_URL": "ignored"}
    assert secret("VCS_DATABASE_URL", env=env) == "postgresql+psycopg://vcs:pw@db/vcs"
    assert secret("VCS_DATABASE_URL", env={"VCS_DATABASE_URL": "from-env"}) == "from-env"
    assert secret("VCS_DATABASE_URL", "fallback", env={}) == "fallback"
    assert secret("VCS_DATABASE_URL", "fallback", env={"VCS_DATABASE_URL_FILE": " "}) == "fallback"
    missing = tmp_path / "nope"
    with pytest.raises(SecretFileError) as refused:
        secret("VCS_DATABASE_URL", env={"VCS_DATABASE_URL_FILE": str(missing)})
    assert str(refused.value) == (
        f"VCS_DATABASE_URL_FILE={missing}: cannot read it (No such file or directory)"
    )
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe pw")
    with pytest.raises(SecretFileError, match="not UTF-8 text"):
        secret("X", env={"X_FILE": str(binary)})


def test_every_secret_the_stack_needs_can_come_from_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case database URL (with its password), the payload keys, the Notify key, the
    codec server's break-glass token (test_codec.py) and the console's secrets."""
    url = f"sqlite:///{tmp_path / 'from-secret.db'}"
    monkeypatch.setenv("VCS_DATABASE_URL_FILE", str(write(tmp_path / "url", url + "\n")))
    assert database_url() == url

    key = base64.b64encode(b"k" * 32).decode()
    monkeypatch.delenv("VCS_CODEC_KEYS")
    monkeypatch.setenv("VCS_CODEC_KEYS_FILE", str(write(tmp_path / "keys", f"prod-1:{key}\n")))
    monkeypatch.setenv("VCS_CODEC_ACTIVE_KEY", "prod-1")
    assert load_keys() == KeyRing({"prod-1": b"k" * 32}, "prod-1")

    monkeypatch.setenv("VCS_NOTIFY_BASE_URL", "https://notify.test")
    monkeypatch.delenv("VCS_NOTIFY_API_KEY", raising=False)
    monkeypatch.setenv("VCS_NOTIFY_API_KEY_FILE", str(write(tmp_path / "notify", API_KEY)))
    notify = config_from_env()
    assert notify is not None and notify.service_id == SERVICE_ID

    session_key = "s" * 40
    settings = ConsoleSettings.from_env(
        {
            "VCS_OIDC_ISSUER": "https://login.vcs.test",
            "VCS_CONSOLE_SESSION_KEY_FILE": str(write(tmp_path / "session", session_key)),
            "VCS_OIDC_CLIENT_SECRET_FILE": str(write(tmp_path / "client", "client-secret\n")),
        }
    )
    assert (settings.session_key, settings.client_secret) == (session_key, "client-secret")


# ---- what a client presents to Temporal ------------------------------------------------------


@pytest.fixture
def temporal_address(local_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch) -> str:
    address = local_env.client.service_client.config.target_host
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "default")
    return address


async def test_connect_presents_the_api_key_from_its_secret_file_and_renews_it(
    temporal_address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker and the CLI (worker.connect) send the token from TEMPORAL_API_KEY_FILE as
    `authorization: Bearer ...` on every call. The `temporal` dev server has no authorizer
    (start-dev cannot enable one), so it ignores the header: this checks that the client is
    configured with it and that a renewed token replaces it, not the server's decision."""
    token_file = write(tmp_path / "temporal_token", WORKER_TOKEN + "\n")
    monkeypatch.setenv("TEMPORAL_API_KEY_FILE", str(token_file))
    monkeypatch.setenv("TEMPORAL_TLS", "false")  # the dev server speaks plain gRPC
    client = await connect()
    assert client.api_key == WORKER_TOKEN
    assert client.service_client.config.api_key == WORKER_TOKEN
    assert await client.service_client.check_health()

    renewed = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ2Y3Mtd29ya2VyIiwibiI6Mn0.c2lnbmF0dXJl"
    refresher = asyncio.create_task(keep_api_key_fresh(client, interval=0.01))
    try:
        write(token_file, renewed)
        for _ in range(500):
            if client.api_key == renewed:
                break
            await asyncio.sleep(0.01)
        assert client.api_key == renewed
        token_file.unlink()  # a token agent between writes: keep the key the client has
        await asyncio.sleep(0.05)
        assert client.api_key == renewed
    finally:
        refresher.cancel()

    write(token_file, "\n")
    with pytest.raises(SecretFileError, match="TEMPORAL_API_KEY_FILE names an empty file"):
        await connect()


async def test_connect_without_credentials_still_reaches_the_dev_server(
    temporal_address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TEMPORAL_API_KEY", "TEMPORAL_API_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    client = await connect()
    assert client.api_key is None
    assert await client.service_client.check_health()


# ---- health endpoints -------------------------------------------------------------------------


@pytest.fixture
def health_port(monkeypatch: pytest.MonkeyPatch) -> int:
    port = free_port()
    monkeypatch.setenv(HEALTH_PORT, str(port))
    return port


async def test_worker_health_reports_running_and_temporal_reachable(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str, health_port: int
) -> None:
    url = f"http://127.0.0.1:{health_port}/healthz"
    worker = build_worker(local_env.client, engine, task_queue)
    async with worker:
        # The SDK counts a worker running once it has checked its namespace with the server,
        # a moment after `async with` returns (longer on a loaded machine).
        await eventually(lambda: worker.is_running)
        runner = await serve_health(worker, local_env.client)
        assert runner is not None
        try:
            async with httpx.AsyncClient() as http:
                response = await http.get(url)
            assert response.status_code == 200
            assert response.json() == {
                "status": "ok",
                "worker": "running",
                "temporal": "reachable",
            }
            assert await asyncio.to_thread(probe, url) == 0
        finally:
            await runner.cleanup()
    assert await asyncio.to_thread(probe, url) == 1  # nothing listening


async def test_worker_health_is_503_when_temporal_is_unreachable_or_the_worker_stopped(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str, health_port: int
) -> None:
    url = f"http://127.0.0.1:{health_port}/healthz"
    unreachable = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    worker = build_worker(local_env.client, engine, task_queue)
    async with worker:
        # The SDK counts a worker running once it has checked its namespace with the server,
        # a moment after `async with` returns (longer on a loaded machine).
        await eventually(lambda: worker.is_running)
        runner = await serve_health(worker, unreachable)
        assert runner is not None
        try:
            async with httpx.AsyncClient() as http:
                response = await http.get(url)
        finally:
            await runner.cleanup()
    assert response.status_code == 503
    assert response.json() == {
        "status": "unhealthy",
        "worker": "running",
        "temporal": "unreachable",
    }
    # After shutdown, the worker is reported stopped.
    runner = await serve_health(worker, local_env.client)
    assert runner is not None
    try:
        async with httpx.AsyncClient() as http:
            stopped = (await http.get(url)).json()
        assert stopped["worker"] == "stopped"
        assert await asyncio.to_thread(probe, url) == 1
    finally:
        await runner.cleanup()


async def test_worker_health_endpoint_is_off_unless_a_port_is_set(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(HEALTH_PORT, raising=False)
    worker = build_worker(local_env.client, engine, task_queue)
    assert await serve_health(worker, local_env.client) is None


@pytest.fixture
async def console_url(engine: Engine) -> AsyncIterator[str]:
    # No identity provider is needed for /healthz: the issuer is never contacted.
    async with console(engine, "http://127.0.0.1:9") as served:
        yield served.url


async def test_console_health_needs_no_sign_in_and_names_nobody(console_url: str) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{console_url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "reachable"}
    assert "set-cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert await asyncio.to_thread(probe, f"{console_url}/healthz") == 0


async def test_console_health_is_503_without_its_database() -> None:
    broken = make_engine(f"postgresql+psycopg://vcs@127.0.0.1:{free_port()}/vcs")  # nobody there
    async with console(broken, "http://127.0.0.1:9") as served, httpx.AsyncClient() as http:
        response = await http.get(f"{served.url}/healthz")
    assert response.status_code == 503
    assert json.loads(response.text) == {"status": "unhealthy", "database": "unreachable"}


# ---- Temporal's database role -----------------------------------------------------------------

POSTGRES_INIT = Path(__file__).resolve().parent.parent / "deploy" / "postgres-init"


@pytest.fixture
def scratch_cluster() -> Iterator[dict[str, str]]:
    """A PostgreSQL cluster of its own (initdb), so that the init scripts run as the postgres
    image's entrypoint runs them, as the superuser, making cluster-wide roles no other test
    sees. The environment psql needs to reach it."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("initdb/pg_ctl are not installed")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = Path(tempfile.mkdtemp(prefix="/tmp/vcs-pg-"))  # short: the socket path has a limit
    if as_postgres:
        shutil.chown(data, "postgres")
    port = str(free_port())
    run = functools.partial(subprocess.run, check=True, capture_output=True, timeout=120)
    try:
        run([*as_postgres, initdb, "-D", str(data / "db"), "-U", "postgres", "--auth=trust"])
        options = f"-p {port} -k {data} -c listen_addresses=''"
        log = str(data / "server.log")  # not our pipe: the server outlives pg_ctl
        run([*as_postgres, pg_ctl, "-D", str(data / "db"), "-o", options, "-l", log, "-w", "start"])
        yield {**os.environ, "PGHOST": str(data), "PGPORT": port}
    finally:
        if (data / "db" / "postmaster.pid").exists():
            run([*as_postgres, pg_ctl, "-D", str(data / "db"), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(data, ignore_errors=True)


def psql(
    env: dict[str, str], user: str, database: str, sql: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-U", user, "-d", database, "-c", sql],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_temporal_database_role_is_least_privilege(
    scratch_cluster: dict[str, str], tmp_path: Path
) -> None:
    """Issue 16 item 1: Temporal's database role is not a superuser. The init scripts run as
    the postgres image runs them; then the database itself refuses what the role must not do."""
    env = {
        **scratch_cluster,
        "TEMPORAL_DB_PASSWORD_FILE": str(write(tmp_path / "temporal_pw", "t-pass'word\n")),
        "VCS_DB_PASSWORD_FILE": str(write(tmp_path / "vcs_pw", "v-password\n")),
        "POSTGRES_USER": "postgres",
    }
    for path in (tmp_path, tmp_path / "temporal_pw", tmp_path / "vcs_pw"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    entrypoint_psql = ["psql", "-v", "ON_ERROR_STOP=1", "--username", "postgres", "--no-password"]
    for _ in range(2):  # a second run (a re-used volume, by hand) changes nothing and fails not
        subprocess.run(
            [*entrypoint_psql, "--no-psqlrc", "--dbname", "postgres", "-f", "00-temporal.sql"],
            cwd=POSTGRES_INIT,
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        subprocess.run(
            ["bash", "01-vcs.sh"],
            cwd=POSTGRES_INIT,
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
    role = psql(
        env,
        "postgres",
        "postgres",
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, "
        "rolpassword IS NOT NULL FROM pg_authid WHERE rolname = 'temporal'",
    )
    assert role.stdout.strip() == "f|f|f|f|f|t"
    owners = psql(
        env,
        "postgres",
        "postgres",
        "SELECT datname, pg_get_userbyid(datdba) FROM pg_database "
        "WHERE datname LIKE 'temporal%' ORDER BY datname",
    )
    assert owners.stdout.split() == ["temporal|temporal", "temporal_visibility|temporal"]
    # What temporal-sql-tool does: make its tables in its own databases.
    for database in ("temporal", "temporal_visibility"):
        made = psql(env, "temporal", database, "CREATE TABLE schema_version (v text)")
        assert made.returncode == 0, made.stderr
    # What it must not do, refused by PostgreSQL itself.
    refused = {
        "vcs": psql(env, "temporal", "vcs", "SELECT 1"),
        "createdb": psql(env, "temporal", "temporal", "CREATE DATABASE stolen"),
        "createrole": psql(env, "temporal", "temporal", "CREATE ROLE stolen"),
        "superuser": psql(env, "temporal", "temporal", "ALTER ROLE temporal SUPERUSER"),
    }
    for what, result in refused.items():
        assert result.returncode != 0, f"the role temporal may {what}"
        assert "permission denied" in result.stderr or "must be superuser" in result.stderr, (
            result.stderr
        )
