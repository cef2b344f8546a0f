"""The console in a real browser: Debian's chromium driven by Playwright (never a downloaded
browser), against a local OpenID provider (oidc-provider-mock) with the demo users, and the
console served by uvicorn on a free port."""

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from oidc_provider_mock import User, run_server_in_thread
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from service.vcs import Vcs
from web.app import create_app
from web.demo import demo_claims
from web.settings import ConsoleSettings
from worker import build_worker

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def identity_provider() -> Iterator[str]:
    users = [User(sub=str(c.pop("sub")), claims=c) for c in demo_claims()]
    with run_server_in_thread(port=free_port(), user_claims=users) as server:
        yield f"http://127.0.0.1:{server.server_port}"


@dataclass
class Console:
    url: str
    issuer: str
    engine: Engine


@contextlib.asynccontextmanager
async def console(
    engine: Engine, issuer: str, vcs: Vcs | None = None, **env: str
) -> AsyncIterator[Console]:
    settings = ConsoleSettings.from_env(
        {"VCS_CONSOLE_MODE": "development", "VCS_OIDC_ISSUER": issuer, **env}
    )
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, engine, vcs=vcs), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield Console(f"http://127.0.0.1:{port}", issuer, engine)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)


@contextlib.asynccontextmanager
async def served(
    env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    *,
    actions: bool = True,
    **settings: str,
) -> AsyncIterator[tuple[Console, Vcs]]:
    """A worker, the local identity provider and the console over them, with the service the
    test sets its cases up through. Without `actions` the console has no engine behind it (it
    shows the case database but takes no action)."""
    vcs = Vcs(env.client, engine, task_queue)
    async with build_worker(env.client, engine, task_queue):
        with identity_provider() as issuer:
            async with console(engine, issuer, vcs=vcs if actions else None, **settings) as c:
                yield c, vcs


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run bin/setup (apt-get install chromium)")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def sign_in(page: Page, console: Console, subject: str) -> None:
    """Sign in as the people do: the start page's button, then the provider's form."""
    await page.goto(f"{console.url}/start")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_placeholder("sub").fill(subject)
    await page.get_by_role("button", name="Authorize").click()
    await page.wait_for_url(f"{console.url}/**")
