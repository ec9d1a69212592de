"""What the browser tests share: the dashboard started like `make run` does, and Debian's chromium."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import free_port, start_service

CHROMIUM = Path("/usr/bin/chromium")


@contextmanager
def dashboard(env: dict[str, str]) -> Iterator[str]:
    """The dashboard on a free loopback port with ``env``; yields its URL, stops it afterwards."""
    port = free_port()
    cmd = [sys.executable, "-m", "ui.serve", "run", "app.py", "--server.port", str(port)]
    cmd += ["--server.headless", "true", "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"]
    url = f"http://127.0.0.1:{port}"
    proc: subprocess.Popen = start_service(cmd, env, url + "/_stcore/health", "the dashboard")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@contextmanager
def browser_page(timeout_ms: int) -> Iterator:
    """A Playwright page in headless Debian chromium (no browser download), 1400x1000."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: .ci/run installs it (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(timeout_ms)
        try:
            yield page
        finally:
            browser.close()
