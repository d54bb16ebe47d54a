"""The lock files pin every dependency pyproject.toml names, with hashes.

``requirements.lock``: the runtime dependencies (the Dockerfile installs it, then the
wheel with ``--no-deps``). ``requirements-dev.lock``: runtime plus the ``dev`` and ``load``
extras. Both made by ``uv pip compile --generate-hashes`` for Python 3.11 on Linux x86_64
(the command is in each file's header; docs/OPERATIONS.md, Releases).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)((?:\s*\\\n\s*--hash=sha256:[0-9a-f]{64})+)",
                 re.M)


def pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    found = {canonicalize_name(m.group(1)): m.group(2) for m in PIN.finditer(text)}
    named = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", text, re.M)
    assert len(found) == len(named), f"{name}: a pin without a sha256 hash"
    return found


def check_covered(requirements: list[str], locked: dict[str, str], lock: str) -> None:
    for line in requirements:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name in locked, f"{req.name} is in pyproject.toml but not in {lock}"
        assert req.specifier.contains(locked[name], prereleases=True), (
            f"{lock} pins {req.name}=={locked[name]}, pyproject.toml wants {req.specifier}")
        if "binary" in req.extras:  # psycopg[binary] → psycopg-binary
            assert f"{name}-binary" in locked, f"{line}: {name}-binary is not in {lock}"


def test_the_runtime_lock_pins_every_runtime_dependency_with_hashes():
    check_covered(PROJECT["dependencies"], pins("requirements.lock"), "requirements.lock")


@pytest.mark.parametrize("extra", ["dev", "load"])
def test_the_dev_lock_pins_every_dependency_of_every_extra(extra):
    locked = pins("requirements-dev.lock")
    check_covered(PROJECT["dependencies"], locked, "requirements-dev.lock")
    check_covered(PROJECT["optional-dependencies"][extra], locked, "requirements-dev.lock")


def test_the_two_locks_agree_and_say_how_they_were_made():
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime
    assert set(PROJECT["optional-dependencies"]) == {"dev", "load"}, "a new extra: lock it too"
    for name, extras in (("requirements.lock", ""), ("requirements-dev.lock", " --extra dev --extra load")):
        header = (ROOT / name).read_text().splitlines()[1]
        assert header.strip("# ").startswith(f"uv pip compile pyproject.toml{extras} --generate-hashes "
                                             "--python-version 3.11 --python-platform x86_64-"), header
