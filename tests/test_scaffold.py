"""``acp-install plugin new``: the generated provider installs, lists, renders and passes the
conformance suite — sandbox install included — as generated, with no core change.

The provider is generated once per session and installed, with pip, into a fresh venv that
sees this interpreter's packages (the core, the sandbox, pytest) through a ``.pth`` file: no
network, no build isolation, no copy of the core. Everything then runs in that venv, in
subprocesses, exactly as an author would run it.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import tomllib
import venv
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from acp_install.cli.main import main

NAME = "acme_cloud"


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scaffold") / "acp-install-acme-cloud"
    assert main(["plugin", "new", NAME, "--output-dir", str(root)]) == 0
    return root


def run(python: Path, *args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, check=False)


@pytest.fixture(scope="session")
def author_venv(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv beside this one, with the generated provider ``pip install -e``'d into it."""
    try:
        import setuptools  # noqa: F401  (the build backend, used without isolation)
    except ImportError:  # pragma: no cover - requirements-dev.txt installs it
        pytest.fail("setuptools is not importable: install requirements-dev.txt")
    home = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(home)
    python = home / "bin" / "python"
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=home).stdout.strip()
    # addsitedir (not a bare path line) so the parent's own .pth files — editable installs — apply
    lines = "; ".join(f"site.addsitedir({p!r})" for p in site.getsitepackages())
    Path(purelib, "_acp_install_parent.pth").write_text(f"import site; {lines}\n")
    proc = run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
               "-e", str(generated), cwd=home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return python


def test_layout(generated: Path) -> None:
    project = tomllib.loads((generated / "pyproject.toml").read_text())["project"]
    assert project["name"] == "acp-install-acme-cloud"
    assert project["entry-points"]["acp_install.providers"] == {NAME: "acp_install_acme_cloud.plugin"}
    assert project["entry-points"]["acp_install_sandbox.providers"] == {
        NAME: "acp_install_acme_cloud.sandbox:declaration"}
    package = generated / "acp_install_acme_cloud"
    crds = sorted(p.name for p in (package / "crds").glob("*.json"))
    assert crds == ["PROVENANCE.json", "acmecloudclusters.infrastructure.cluster.x-k8s.io.json",
                    "acmecloudmachines.infrastructure.cluster.x-k8s.io.json",
                    "acmecloudmachinetemplates.infrastructure.cluster.x-k8s.io.json"]
    provenance = json.loads((package / "crds" / "PROVENANCE.json").read_text())
    assert provenance["source"] == "placeholder" and "PLACEHOLDERS" in provenance["note"]
    assert "python -m acp_install_sandbox.schemagen CRD_DIR acp_install_acme_cloud/crds/" in provenance["note"]
    assert sorted(p.name for p in (generated / "tests" / "golden").iterdir()) == [
        "RUNBOOK.md", "appreleases.yaml", "extra-resources.yaml", "global.yaml", "installer-config.json"]
    # hooks import the author API only
    imports = [line for line in (package / "plugin.py").read_text().splitlines()
               if line.startswith(("from acp_install", "import acp_install"))]
    assert imports == ["from acp_install.provider import ("]


def test_placeholder_crds_are_structural(generated: Path) -> None:
    """The sandbox's own schema reader accepts them, and they reject what the kinds do not have."""
    from acp_install_sandbox import CRDRegistry

    crds = [json.loads(p.read_text()) for p in (generated / "acp_install_acme_cloud" / "crds").glob("*.*.json")]
    registry = CRDRegistry.from_crds(crds)
    template = {"apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1", "kind": "AcmeCloudMachineTemplate",
                "metadata": {"name": "global-cp-template", "namespace": "cpaas-system"},
                "spec": {"template": {"spec": {"image": "os", "cpu": 2, "memoryMiB": 4096, "diskGiB": 50}}}}
    assert registry.validate(template, unknown="error") == []
    template["spec"]["template"]["spec"].update(cpu="two", gpu=1)
    errors = " ".join(map(str, registry.validate(template, unknown="error")))
    assert "cpu" in errors and "gpu" in errors


def test_providers_lists_it(author_venv: Path, generated: Path) -> None:
    proc = run(author_venv, "-m", "acp_install.cli.main", "providers", "-o", "json", cwd=generated)
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in json.loads(proc.stdout)["providers"]}
    assert rows[NAME]["distribution"] == "acp-install-acme-cloud"
    assert {"acp_provider_info", "acp_packages", "acp_manifest", "acp_installer_payload"} <= set(rows[NAME]["hooks"])


def test_init_and_render(author_venv: Path, generated: Path, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    cli = ("-m", "acp_install.cli.main")
    assert run(author_venv, *cli, "init", "--provider", NAME, "-o", str(spec), cwd=tmp_path).returncode == 0
    proc = run(author_venv, *cli, "render", "-f", str(spec), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    global_yaml = (tmp_path / "out" / "global.yaml").read_text()
    assert "kind: AcmeCloudCluster" in global_yaml and "kind: AcmeCloudMachineTemplate" in global_yaml
    # the golden files the scaffold wrote are exactly what the installed provider renders
    for path in (generated / "tests" / "golden").iterdir():
        assert (tmp_path / "out" / path.name).read_text() == path.read_text(), path.name


def test_conformance_suite_passes_as_generated(author_venv: Path, generated: Path, tmp_path: Path) -> None:
    """Every check runs and passes: none skipped, the sandbox install among them."""
    report = tmp_path / "report.xml"
    proc = run(author_venv, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", cwd=generated,
               env={"UPDATE_GOLDEN": "0"})
    assert proc.returncode == 0, proc.stdout[-4000:]
    cases = ET.parse(report).getroot().iter("testcase")
    outcomes = {case.get("name"): [child.tag for child in case] for case in cases}
    assert {"test_full_install_against_the_sandbox", "test_rendered_files_match_golden",
            "test_render_is_deterministic_across_processes", "test_objects_validate_against_crds"} <= set(outcomes)
    assert all(not tags for tags in outcomes.values()), outcomes  # no failure, error or skip


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "says"), [
    ("Foo", "not a provider id"), ("foo-bar", "not a provider id"), ("9lives", "not a provider id"),
    ("foo__bar", "not a provider id"), ("x" * 41, "not a provider id"), ("kubeadm", "reserved"),
    ("dcs", "already installed (acp-install-dcs)"),
])
def test_bad_names_are_refused(name: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugin", "new", name, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert says in err and "fix:" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_a_non_empty_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["plugin", "new", "acme", "--out", str(tmp_path)]) == 2
    assert "not an empty directory" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_default_directory_and_an_empty_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["plugin", "new", "acme"]) == 0
    assert (tmp_path / "acp-install-acme" / "acp_install_acme" / "plugin.py").is_file()
    (tmp_path / "empty").mkdir()
    assert main(["plugin", "new", "acme", "--output-dir", "empty"]) == 0
    assert (tmp_path / "empty" / "pyproject.toml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acp-install-acme", "empty"]  # no staging left
    assert "acme" not in sys.modules and "acp_install_acme" not in sys.modules
