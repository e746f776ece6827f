"""A headless Chromium (Debian's chromium package) driven from the command line, for the report
tests: the console messages and the requests a page makes, its DOM, its PDF print and a
screenshot. No DevTools client is needed: the console comes from Chromium's log and the
requests from its NetLog, where a page's own requests carry the page as their initiator and the
browser's background requests (update checks) do not."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

FLAGS = [
    "--headless",
    "--no-sandbox",  # the tests run as root on CI machines
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
]


def find() -> str | None:
    """The Chromium binary, or None when it is not installed."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run(page: pathlib.Path, *args: str, timeout: float = 90) -> tuple[str, list[str], list[str]]:
    """Opens `page` with `args` (e.g. --dump-dom); returns standard output, the page's console
    messages and the URLs the page requested through the network stack."""
    binary = find()
    assert binary, "chromium is not installed"
    with tempfile.TemporaryDirectory() as tmp:
        netlog = pathlib.Path(tmp) / "net.json"
        cmd = [
            binary,
            *FLAGS,
            f"--user-data-dir={tmp}/profile",
            "--enable-logging=stderr",
            "--log-level=0",
            f"--log-net-log={netlog}",
            *args,
            page.resolve().as_uri(),
        ]
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env=os.environ | {"HOME": tmp},
        )
        assert done.returncode == 0, done.stderr[-2000:]
        console = [m.group(1) for m in re.finditer(r":CONSOLE[^\]]*\] (.*)", done.stderr)]
        return done.stdout, console, page_requests(netlog)


def page_requests(netlog: pathlib.Path) -> list[str]:
    """URLs of the requests in a NetLog that a page started (an initiator that is an origin)."""
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for e in log["events"]:
        p = e.get("params") or {}
        if e["type"] == start and "url" in p and p.get("initiator") != "not an origin":
            urls.append(p["url"])
    return urls


def pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF: its page objects (`/Type /Page`, not `/Pages`)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
