"""requirements.lock pins every dependency pyproject.toml names (run `make lock` when not)."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement

from tests.support.paths import REPO_ROOT


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_lock_pins_every_declared_dependency() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    declared = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        declared.extend(extra)
    pinned = {}
    for line in (REPO_ROOT / "requirements.lock").read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pinned[_normalised(name)] = version.strip()
    missing = sorted(
        str(requirement)
        for requirement in map(Requirement, declared)
        if _normalised(requirement.name) not in pinned
        or not requirement.specifier.contains(pinned[_normalised(requirement.name)])
    )
    assert not missing, f"requirements.lock is out of date for {missing}: run `make lock`"
