"""Shared fixtures: the real CRDs, spec helpers, golden files, secret canaries.

CRDs are read from ``../shared/crds`` (never copied into the repo). Golden files live in
``tests/golden/``; run ``UPDATE_GOLDEN=1 pytest`` to rewrite them after an intended change, then
review the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from acp_install.yamlio import load_all

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CRDS = SHARED / "crds"
GOLDEN = Path(__file__).parent / "golden"

#: Secret values used by tests; a test fails if one shows up where it must not.
CANARIES = {
    "ACP_ADMIN_PASSWORD": "canary-admin-9f3e1d",
    "DCS_AUTH_KEY": "canary-dcs-7c2b4a",
    "VSPHERE_PASSWORD": "canary-vsphere-5d8e6f",
    "HCS_PASSWORD": "canary-hcs-1a9c3b",
    "REGISTRY_PASSWORD": "canary-registry-4e7f2a",
    "ENCRYPTION_KEY": "Y2FuYXJ5LWVuY3J5cHRpb24ta2V5LTMyYnl0ZXMhIQ==",
}


@pytest.fixture(scope="session")
def crd_registry() -> Any:
    from acp_install.sandbox.schema import CRDRegistry

    if not CRDS.is_dir():
        pytest.fail(f"CRDs not found at {CRDS}: tests need ../shared/crds beside the repo")
    return CRDRegistry.from_dir(CRDS)


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


def objects_of(text: str) -> list[dict[str, Any]]:
    """Every YAML document of a rendered file."""
    return [doc for doc, _index, _line in load_all(text) if doc is not None]


def assert_valid_against_crds(registry: Any, objects: list[dict[str, Any]]) -> int:
    """Every custom resource validates against its CRD (unknown fields are errors)."""
    checked = 0
    for obj in objects:
        if obj.get("apiVersion") == "v1":
            continue
        errors = registry.validate(obj, unknown="error")
        assert not errors, f"{obj['kind']}/{obj['metadata']['name']}: " + "; ".join(map(str, errors))
        checked += 1
    return checked


@pytest.fixture
def tmp_spec(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    def write(text: str) -> Path:
        path = tmp_path / "spec.yaml"
        path.write_text(text)
        return path

    yield write
