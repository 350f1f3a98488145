"""The workbench in a real browser: Debian's Chromium driven by Playwright against a server
this session starts on a demo home (``steward demo`` on a small city).

Outside CI the tests skip when ``/usr/bin/chromium`` is missing (``make browser`` installs
it as root); under ``CI=true`` a missing browser fails them, so nothing passes as skipped.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Page, expect

from steward.settings import Settings
from steward.simulation.demo import PASSWORD
from steward.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
SUBSCRIBERS = 1500


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError("CI needs /usr/bin/chromium for the browser tests: make browser")
    skip = pytest.mark.skip(reason="no /usr/bin/chromium (make browser installs it)")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM)}


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("workbench")
    command = [sys.executable, "-m", "steward.cli", "demo", "--no-serve", "--json"]
    command += ["--subscribers", str(SUBSCRIBERS)]
    env = os.environ | {"STEWARD_HOME": str(home)}
    done = subprocess.run(command, env=env, cwd=home, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return home


@pytest.fixture(scope="session")
def base_url(demo_home: Path) -> Iterator[str]:
    """The app on a free port, in a thread of this process, until the session ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(Settings(home=demo_home)), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def chinese(page: Page, base_url: str) -> Page:
    """A 1366x768 page whose browser asks for Chinese."""
    page.set_viewport_size({"width": 1366, "height": 768})
    page.context.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9"})
    return page


def sign_in(page: Page, base_url: str, who: str) -> None:
    """Sign in as a demo user (demo.planner, demo.approver, demo.analyst, demo.agent1...)."""
    page.goto(base_url + "/")
    page.fill("#username", who)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/home$"))
