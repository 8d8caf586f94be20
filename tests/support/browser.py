"""Debian's headless Chromium for the browser tests, driven by Playwright."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, async_playwright

CHROMIUM = "/usr/bin/chromium"
# Headless flags for these machines; the last four keep Chromium from calling
# outside hosts in the background.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@asynccontextmanager
async def chromium_context(
    profile: Path, **options: Any
) -> AsyncIterator[BrowserContext]:
    """Open Chromium with a fresh profile in ``profile``; ``options`` set the page."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; run make browser")
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            locale="zh-CN",
            **options,
        )
        try:
            yield context
        finally:
            await context.close()
