"""s3rver, a real S3-compatible server (npm), started for the storage tests.

.ci/run installs it with ``npm install --prefix .cache/s3rver s3rver@3.7.1`` (git-ignored);
without node or that folder the S3 tests are skipped, saying so.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from station_portal.resources import repo_root

BUCKET = "portal"
ACCESS_KEY = SECRET_KEY = "S3RVER"  # s3rver's own credentials
REGION = "us-east-1"
INSTALL = "npm install --prefix .cache/s3rver s3rver@3.7.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_s3rver(directory: Path) -> Iterator[str]:
    """Start s3rver on a free port of 127.0.0.1 with bucket ``portal``; its endpoint URL."""
    node = shutil.which("node")
    script = repo_root() / ".cache" / "s3rver" / "node_modules" / "s3rver" / "bin" / "s3rver.js"
    if node is None:
        pytest.skip("the S3 backend is tested against s3rver, which needs node: not found")
    if not script.is_file():
        pytest.skip(f"s3rver is not installed: run `{INSTALL}` (as .ci/run does)")
    port = _free_port()
    process = subprocess.Popen(
        [node, str(script), "--directory", str(directory), "--address", "127.0.0.1",
         "--port", str(port), "--silent", "--configure-bucket", BUCKET],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"s3rver stopped at start: {process.stderr.read()!r}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("s3rver did not listen within 30 s")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
