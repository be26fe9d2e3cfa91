"""RUNBOOK.md, the runbook an operator follows at 2 a.m.: common steps for every provider,
provider steps through acp_runbook_steps, no command that sends a placeholder, quoted paths.

The guards are executed with bash against stand-in kubectl/curl/packtool scripts (in a temporary
directory on PATH): nothing is contacted, the test observes what the commands would have sent."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from acp_install.engine import stalls

from specs import example, render

PROVIDERS = ("dcs", "vsphere", "hcs", "baremetal")
BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed")


def runbook(out: Path) -> str:
    return (out / "RUNBOOK.md").read_text()


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, re.S)


def recorder(tmp: Path, *names: str) -> Path:
    """Stand-ins for ``names`` that append their arguments to ``calls.log`` (one line per call)."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\nprintf "%s|" {name} "$@" >> "{tmp}/calls.log"\necho >> "{tmp}/calls.log"\n')
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def run_block(block: str, cwd: Path, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(cwd), "INSTALLER_IP": "127.0.0.1"}
    return subprocess.run([BASH, "-c", block], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def sends(text: str, file: str) -> str:
    """The guarded block of the runbook that sends ``file``."""
    return next(b for b in bash_blocks(text) if f"grep -qE '<(secret|base64)\\b' {file}" in b)


@pytest.mark.parametrize("provider_id", PROVIDERS)
def test_every_provider_has_the_common_steps(provider_id: str, tmp_path: Path) -> None:
    text = runbook(render(tmp_path, example(provider_id)))
    assert "kubectl -n cpaas-system get secret global-registry-auth -o name" in text
    assert 'acp-install install -f "${ACP_SPEC}"' in text  # resuming
    assert "## Troubleshooting — common stalls" in text
    for stall in stalls.ALL:
        assert f"| {stall.symptom} | {stall.look} | {stall.looking_for} |" in text
    handoff = text.index("## Handoff — decommission the bootstrap host last")
    assert text.index('if acp-install handoff-check -f "${ACP_SPEC}"') > handoff
    assert text.index("delete only the KIND cluster minialauda") > text.index("acp-install handoff-check")


def test_pull_secret_check_follows_the_spec(tmp_path: Path) -> None:
    data = example("dcs")
    data["credentials"]["bootstrapRegistryAuth"] = True
    text = runbook(render(tmp_path, data))
    assert "reference the bootstrap registry's pull secret `global-registry-auth`" in text
    assert "set credentials.bootstrapRegistryAuth: true and re-render" not in text


@pytest.mark.parametrize("provider_id", PROVIDERS)
def test_no_command_holds_a_bare_placeholder(provider_id: str, tmp_path: Path) -> None:
    """A `<...>` in a command would be a shell redirection or a value sent as is: every value
    the site must give is a `${VAR:?how}` refusal, every heredoc body is quoted data."""
    for block in bash_blocks(runbook(render(tmp_path, example(provider_id)))):
        code = re.sub(r"<<'?EOF'?\n.*?\nEOF\n", "", block, flags=re.S)      # heredoc bodies
        code = re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "", code)                     # refusals
        code = code.replace("grep -qE '<(secret|base64)\\b'", "")            # the guard itself
        assert not re.search(r"<[A-Za-z][\w ./-]*>", code), code


@needs_bash
def test_a_file_with_placeholders_is_never_sent(tmp_path: Path, canaries: dict[str, str]) -> None:
    out = render(tmp_path / "plain", example("dcs"))
    text = runbook(out)
    assert "These files were rendered **without** secret values" in text
    bin_dir = recorder(tmp_path, "kubectl", "curl")
    for file in ("global.yaml", "installer-config.json"):
        result = run_block(sends(text, file), out, bin_dir)
        assert f"{file} holds secret placeholders" in result.stderr
    log = tmp_path / "calls.log"
    calls = log.read_text().splitlines() if log.exists() else []
    # reads happen (the installer Pod IP), nothing is applied or posted
    assert all(c.startswith("kubectl|get|") for c in calls), calls
    log.unlink(missing_ok=True)

    full = render(tmp_path / "full", example("dcs"), "--include-secrets")
    text = runbook(full)
    assert "No file here holds a secret placeholder" in text
    assert "grep -qE" not in text  # nothing left to guard
    result = run_block(next(b for b in bash_blocks(text) if "kubectl apply -f global.yaml" in b),
                       full, bin_dir)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "calls.log").read_text() == "kubectl|apply|-f|global.yaml|\n"


@needs_bash
def test_paths_are_quoted_so_pasting_runs_nothing(tmp_path: Path, canaries: dict[str, str]) -> None:
    mark = tmp_path / "ran"
    bin_dir = recorder(tmp_path, "packtool")
    data = example("dcs")
    data["packages"]["packtool"] = str(bin_dir / "packtool")
    data["packages"]["provider"]["path"] = f"/root/pkg-$(touch {mark}).tgz"
    text = runbook(render(tmp_path, data))
    push = next(b for b in bash_blocks(text) if "pack push" in b)
    result = run_block(f'LOCAL_REGISTRY_ADDRESS=127.0.0.1:11443\n{push}', tmp_path, bin_dir)
    assert result.returncode == 0, result.stderr
    assert not mark.exists(), "a $(...) in packages.path ran when pasted"
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert calls[-1] == f"packtool|pack|push|-r|127.0.0.1:11443|-c|/root/pkg-$(touch {mark}).tgz|"


@needs_bash
def test_values_only_the_site_knows_refuse_until_given(tmp_path: Path) -> None:
    text = runbook(render(tmp_path, example("dcs")))
    bin_dir = recorder(tmp_path, "tar", "sh", "kubectl")
    start = next(b for b in bash_blocks(text) if "export ACP_SPEC=" in b)
    result = run_block(start + 'echo "continued with $ACP_SPEC"\n', tmp_path, bin_dir)
    assert "export ACP_SPEC=<path of the install spec> first" in result.stderr
    assert "continued" not in result.stdout
    core = next(b for b in bash_blocks(text) if "tar -xvf" in b)
    result = run_block(core.replace("mkdir -p /root/cpaas-install\n", ""), tmp_path, bin_dir)
    assert "CORE_PACKAGE" in result.stderr
    assert not (tmp_path / "calls.log").exists() or "tar" not in (tmp_path / "calls.log").read_text()


def _order(text: str, *needles: str) -> list[int]:
    return [text.index(n) for n in needles]


def test_bare_metal_steps_are_in_procedure_order(tmp_path: Path) -> None:
    text = runbook(render(tmp_path, example("baremetal")))
    positions = _order(
        text,
        "### Bare Metal: the bootstrap certificate before the provider",
        "kubectl -n cpaas-system wait certificate/dex-tls-bootstrap --for=condition=Ready",
        "Apply the AppReleases and wait for the providers' CRDs",
        "kubectl apply -f global.yaml",
        "### Bare Metal: boot the hosts from the seed ISO, wait for the inventories",
        "-o jsonpath='{.status.downloadURL}",
        "## Step 6",
        "### Bare Metal: collect the runtime Secret names",
        "--until extra-resources",
        "kubectl apply -f extra-resources.yaml",
        "## Step 8",
        "### Bare Metal: the system-agent handoff gate",
        "if acp-install handoff-check",
    )
    assert positions == sorted(positions)
    # the certificate objects are the rendered ones, with the documented lifetime
    assert "name: dex-tls-bootstrap" in text and "renewBefore: 720h" in text
    for name in ("global-4c4c4544-0031-3910-8052-b4c04f4e3231", "global-4c4c4544-0031-3910-8052-b4c04f4e3233"):
        assert name in text  # the inventories the pools name are waited for


def test_bare_metal_without_runtime_secrets_says_the_list_is_complete(tmp_path: Path) -> None:
    data = example("baremetal")
    data["platform"]["importRuntimeSecrets"] = False
    text = runbook(render(tmp_path, data))
    assert "### Bare Metal: the import list" in text and "--until extra-resources" not in text


def test_a_runbook_step_for_an_unknown_stage_is_a_plugin_error() -> None:
    from acp_install import Provider
    from acp_install.errors import PluginError
    from acp_install.provider import RunbookStep, hookimpl
    from acp_install.spec.load import parse

    from fakeprovider import FOO_SPEC, FooProvider

    class LateFoo(FooProvider):
        @hookimpl
        def acp_runbook_steps(self, spec: Any) -> list[RunbookStep]:
            return [RunbookStep("later", "x", "y")]  # type: ignore[arg-type]

    provider = Provider(LateFoo(), distribution="acp-install-latefoo", version="0.1")
    spec = parse(FOO_SPEC, provider=provider).spec
    with pytest.raises(PluginError, match="stage 'later'") as err:
        provider.runbook_steps(spec)
    assert "acp-install-latefoo" in str(err.value) and "packages" in err.value.hint


def test_dcs_checks_its_credential_secret_before_decommission(tmp_path: Path) -> None:
    text = runbook(render(tmp_path, example("dcs")))
    check = "kubectl --kubeconfig global.kubeconfig -n cpaas-system get secret global-secret -o name"
    assert text.index("## Handoff") < text.index(check) < text.index("if acp-install handoff-check")


def test_vsphere_runbook_selects_the_cpi_pods_the_manifest_labels(tmp_path: Path) -> None:
    """The runbook's (and the page's) `-l k8s-app=...` must select the rendered DaemonSet's Pods."""
    from support import objects_of

    out = render(tmp_path, example("vsphere"))
    text = runbook(out)
    selectors = set(re.findall(r"-l (k8s-app=[\w-]+)", text))
    assert selectors == {"k8s-app=vsphere-cloud-controller-manager"}
    cm = next(o for o in objects_of((out / "global.yaml").read_text())
              if o["metadata"]["name"] == "global-vsphere-cpi-manifests")
    daemonset = next(o for o in objects_of(cm["data"]["data"]) if o["kind"] == "DaemonSet")
    labels = daemonset["spec"]["template"]["metadata"]["labels"]
    for selector in selectors:
        key, _, value = selector.partition("=")
        assert labels.get(key) == value
    assert "vspherefailuredomain,vspheredeploymentzone" not in text  # only with failure domains


def test_vsphere_failure_domains_are_checked_before_the_machines(tmp_path: Path) -> None:
    data = example("vsphere")
    data["platform"]["failureDomains"] = {"domains": [{
        "name": "global-fd-1", "deploymentZone": "global-dz-1", "region": "region-a", "zone": "zone-1",
        "computeCluster": "cluster-1", "datastore": "datastore1"}]}
    text = runbook(render(tmp_path, data))
    assert text.index("kubectl apply -f global.yaml") < text.index(
        "kubectl get vspherefailuredomain,vspheredeploymentzone") < text.index("## Step 6")
