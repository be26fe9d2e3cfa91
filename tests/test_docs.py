"""Self-checking docs: generated references are current, the README's commands exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from acp_install.refdocs import hooks_markdown, spec_markdown

ROOT = Path(__file__).resolve().parent.parent
REGEN = "run: python -m acp_install.refdocs docs/reference"


def test_hook_reference_is_current() -> None:
    assert (ROOT / "docs/reference/hooks.md").read_text() == hooks_markdown(), REGEN


def test_spec_reference_is_current() -> None:
    assert (ROOT / "docs/reference/spec.md").read_text() == spec_markdown(), REGEN


@pytest.mark.parametrize("provider_id", ["dcs", "vsphere", "hcs", "baremetal"])
def test_provider_spec_reference_is_current(provider_id: str) -> None:
    path = ROOT / f"docs/reference/spec-{provider_id}.md"
    assert path.read_text() == spec_markdown(provider_id), REGEN


def test_readme_has_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "pip install -r requirements-dev.txt" in readme
    assert ".venv/bin/python -m pytest" in readme
    ci = (ROOT / ".ci/run").read_text()
    assert ".venv/bin/python -m pytest" in ci
