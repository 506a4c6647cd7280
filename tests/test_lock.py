"""The lock files cover pyproject.toml: every declared dependency is pinned to one exact
version inside its declared range, so `make` installs what the tests ran with (after editing
a dependency in pyproject.toml, `make lock` brings the locks back in step)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pins(name: str) -> dict[str, str]:
    """package → its exact version in the lock file `name`."""
    text = (ROOT / name).read_text()
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", text, re.M)
    return {canonicalize_name(package): version for package, version in found}


def declared(*extras: str) -> list[Requirement]:
    lines = [*PROJECT["dependencies"]]
    for extra in extras:
        lines += PROJECT["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize(
    ("lock", "extras"),
    [("requirements.lock", ("dev",)), ("requirements-bench.lock", ("dev", "bench"))],
)
def test_every_declared_dependency_is_pinned_within_its_range(
    lock: str, extras: tuple[str, ...]
) -> None:
    pinned = pins(lock)
    for requirement in declared(*extras):
        if requirement.marker and not requirement.marker.evaluate():
            continue
        version = pinned.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in {lock}: run make lock"
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {requirement.name}=={version}, outside {requirement}: run make lock"
        )


def test_the_bench_lock_keeps_every_version_of_the_main_lock() -> None:
    main, bench = pins("requirements.lock"), pins("requirements-bench.lock")
    assert {package: bench.get(package) for package in main} == main
