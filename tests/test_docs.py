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


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in section.split("```bash")[1:] for block in [block.split("```")[0]]]


def test_ci_runs_the_readme_test_command() -> None:
    """CI (.ci/run) installs what the README installs and runs the README's test command."""
    main_job, tests = quick_start_commands()
    steps = [part.strip() for part in tests.split("&&")]
    ci = (ROOT / ".ci/run").read_text()
    install = next(p for p in steps if "pip install" in p).split("pip install", 1)[1].strip()
    assert f"pip install -q {install}" in ci
    assert steps[-1] in ci.splitlines()
    assert main_job.split("&&")[:2] == tests.split("&&")[:2]  # one setup for both commands


def test_the_readme_main_job_is_a_valid_command_line() -> None:
    """The main job's arguments are accepted by the CLI as it is now (options renamed or removed
    would make the README's first command fail)."""
    from acp_install.cli.main import cli

    main_job, _ = quick_start_commands()
    argv = main_job.split("&&")[-1].split()
    assert argv[0].endswith("acp-install")
    command = cli.get_command(cli.make_context("acp-install", ["--help"], resilient_parsing=True), argv[1])
    assert command is not None
    command.make_context(argv[1], argv[2:])  # raises click.UsageError for an unknown option
