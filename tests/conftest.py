"""Shared fixtures: the real CRDs, spec helpers, golden files, secret canaries.

CRDs are the structural schemas the distributions ship (``crds/`` of each; see
tests/test_crd_schemas.py for how they are checked against the published CRDs). Golden files live in
``tests/golden/``; run ``UPDATE_GOLDEN=1 pytest`` to rewrite them after an intended change, then
review the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support import CANARIES, GOLDEN

# Every sandbox a test starts (the fixtures, `--sandbox` runs and their subprocesses) runs at
# this speed unless the test says otherwise: the simulated delays are not what a test checks
# (holds make intermediate states observable at any speed), and at the fixtures' own default
# (50) they were most of the suite's wall time.
os.environ.setdefault("ACP_SANDBOX_SPEED", "1000")


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: unknown when it is not loaded
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (the default, pyproject.toml): two workers per core this process may use.
    Many tests spend much of their time waiting on a sandbox (its controllers tick, the
    installer is polled), so a core has a second worker's CPU work to do while one waits;
    ``-n 0`` runs the suite serially. ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides when set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist reads it
    return 2 * len(os.sched_getaffinity(0))


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never write into the real home (e.g. generated keys under ~/.acp-install)."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    # Tests install the `init` examples against sandboxes they start themselves (loopback only);
    # the refusal of example values is tested with this unset (tests/test_example_values.py).
    monkeypatch.setenv("ACP_INSTALL_ACCEPT_EXAMPLE_VALUES", "1")


@pytest.fixture(scope="session")
def crd_registry() -> Any:
    """Every published CRD the installed distributions ship (the sandbox validates against the
    same); the bootstrap kinds, which have no published CRD, are not in it."""
    from acp_install_sandbox import CRDRegistry
    from acp_install_sandbox.catalog import Catalog
    from acp_install_sandbox.declarations import installed

    return CRDRegistry.from_crds(Catalog(installed()).all_crds())


@pytest.fixture
def canaries(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Set every canary secret in the environment (specs reference them with {env: NAME})."""
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    return dict(CANARIES)


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """Compare text with ``tests/golden/<name>``; UPDATE_GOLDEN=1 rewrites it."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if os.environ.get("UPDATE_GOLDEN"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        assert path.exists(), f"golden file {path} missing: run UPDATE_GOLDEN=1 pytest"
        assert text == path.read_text(), f"{name} differs from its golden file"

    return check


@pytest.fixture
def tmp_spec(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    def write(text: str) -> Path:
        path = tmp_path / "spec.yaml"
        path.write_text(text)
        return path

    yield write
