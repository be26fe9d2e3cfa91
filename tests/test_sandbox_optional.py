"""The sandbox is its own distribution: the core works without it and says how to get it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

#: Run the CLI with the sandbox distribution made unimportable, as on a host without it.
WITHOUT_SANDBOX = (
    "import sys; sys.modules['acp_install_sandbox'] = None\n"
    "from acp_install.cli.main import run; sys.argv = ['acp-install', *sys.argv[1:]]; run()"
)


def cli_without_sandbox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_SANDBOX, *args], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("args", [("install", "--sandbox", "--provider", "dcs"), ("demo",), ("sandbox", "up"),
                                  ("sandbox", "scenarios")])
def test_sandbox_commands_name_the_pip_command_when_missing(args: tuple[str, ...]) -> None:
    proc = cli_without_sandbox(*args)
    assert proc.returncode == 2, proc.stderr
    assert "the sandbox is not installed" in proc.stderr
    assert "pip install 'acp-install[sandbox]'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_render_and_validate_work_without_the_sandbox(tmp_path: object) -> None:
    proc = cli_without_sandbox("init", "--provider", "dcs", "-o", f"{tmp_path}/spec.yaml")
    assert proc.returncode == 0, proc.stderr
    proc = cli_without_sandbox("render", "-f", f"{tmp_path}/spec.yaml", "-o", f"{tmp_path}/out")
    assert proc.returncode == 0, proc.stderr


def test_core_modules_never_import_the_sandbox_at_module_level() -> None:
    code = ("import sys, pkgutil, importlib, acp_install\n"
            "for m in pkgutil.walk_packages(acp_install.__path__, 'acp_install.'):\n"
            "    importlib.import_module(m.name)\n"
            "print(sorted(n for n in sys.modules if n.startswith('acp_install_sandbox')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_core_distribution_does_not_depend_on_what_only_the_sandbox_needs() -> None:
    from importlib import metadata

    required = {r.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().lower()
                for r in metadata.requires("acp-install") or [] if "extra ==" not in r}
    assert "acp-install-sandbox" not in required
    extras = [r for r in metadata.requires("acp-install") or [] if 'extra == "sandbox"' in r]
    assert [r.split("<")[0].split(">")[0] for r in extras] == ["acp-install-sandbox"]


@pytest.mark.parametrize("bad", ["missing", "broken-yaml"])
def test_a_bad_crds_directory_is_a_usage_error(bad: str, tmp_path: Any) -> None:
    crds = tmp_path / "crds"
    if bad == "broken-yaml":
        crds.mkdir()
        (crds / "x.yaml").write_text("kind: CustomResourceDefinition\nmetadata: {name: [\n")
    proc = subprocess.run([sys.executable, "-m", "acp_install.cli.main", "install", "--sandbox", "--provider", "dcs",
                           "--crds", str(crds)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert f"--crds {crds}" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("address", ["0.0.0.0", "10.0.0.1", "localhost"])
def test_the_sandbox_listens_on_loopback_only(address: str, tmp_path: Any) -> None:
    proc = subprocess.run([sys.executable, "-m", "acp_install.cli.main", "sandbox", "up", "--address", address,
                           "--state-dir", str(tmp_path / "sb")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "loopback address" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "sb" / "sandbox.pid").exists()


def test_cryptography_is_paid_for_only_when_a_certificate_is_checked(tmp_path: Path) -> None:
    """The core needs ``cryptography`` only to read a brought console certificate's SANs
    (``acp_install.certs``): loading and planning a spec without one must not import it."""
    code = ("import os, sys, pathlib, acp_install, acp_install.plugins\n"
            "from acp_install.spec.example import example_spec\n"
            "for name in acp_install.plugins.installed():\n"
            "    spec = pathlib.Path(sys.argv[1]) / f'{name}.yaml'\n"
            "    spec.write_text(example_spec(acp_install.load_provider(name)))\n"
            "    acp_install.build_plan(acp_install.load_spec(spec))\n"
            "print(sorted(n for n in sys.modules if n.split('.')[0] == 'cryptography'))")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
