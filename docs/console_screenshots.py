"""Screenshots of the VLO console for the README (run by bin/screenshots against the demo that
bin/run-demo starts): each demo user signs in through the local identity provider, as people do,
and the pages they use most are saved under docs/screenshots/."""

import asyncio
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

CONSOLE = "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


async def signed_in(browser: Browser, subject: str) -> Page:
    context = await browser.new_context(viewport={"width": 1100, "height": 800}, locale="en-GB")
    page = await context.new_page()
    await page.goto(CONSOLE + "/start")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_placeholder("sub").fill(subject)
    await page.get_by_role("button", name="Authorize").click()
    await page.wait_for_url(CONSOLE + "/**")
    return page


async def shoot(page: Page, name: str) -> None:
    await page.screenshot(path=str(OUT / f"console-{name}.png"), full_page=True)
    print(f"wrote docs/screenshots/console-{name}.png")


async def main() -> None:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        vlo = await signed_in(browser, "vlo.demo")
        await shoot(vlo, "1-my-tasks")
        await vlo.goto(CONSOLE + "/cases/DEMO-0001")
        await shoot(vlo, "2-case")
        await vlo.goto(CONSOLE + "/cases/DEMO-0001/key-stage")
        await shoot(vlo, "5-key-stage")
        admin = await signed_in(browser, "admin.clarke")
        await shoot(admin, "3-outbox")
        manager = await signed_in(browser, "manager.evans")
        await manager.goto(CONSOLE + "/region")
        await shoot(manager, "4-region")
        await browser.close()


if __name__ == "__main__":
    asyncio.run(main())
