"""Example values a real spec must replace: listed by validate/render, refused by install, and
reported by `init --from-env` (issue 9, part 2)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from acp_install import load_provider
from acp_install.cli.main import main
from acp_install.spec.example import PLACEHOLDERS

from specs import example, setpath, write

PROVIDERS = ("dcs", "vsphere", "hcs", "baremetal")

#: A replacement value per placeholder field of each provider's example.
REPLACED: dict[str, dict[str, Any]] = {
    "dcs": {"platform.credentials.endpoint": "https://dcs.site.lan:7443",
            "platform.credentials.site": "SITE0001",
            "platform.controlPlane.pool[*].ip": ["10.20.0.11", "10.20.0.12", "10.20.0.13"],
            "platform.controlPlane.pool[*].gateway": "10.20.0.1",
            "platform.controlPlane.pool[*].dns": "10.20.0.2",
            "platform.controlPlane.disks[*].datastoreName": "site-ds",
            "platform.controlPlane.pool[*].persistentDisk[0].datastoreName": "site-ds"},
}


def _replace(data: dict[str, Any], pattern: str, value: Any) -> None:
    if "[*]" not in pattern:
        setpath(data, pattern, value)
        return
    head, _, tail = pattern.partition("[*]")
    node: Any = data
    for part in head.split("."):
        node = node[part]
    for i, item in enumerate(node):
        if tail == ".datastoreName" and "datastoreName" not in item:
            continue  # the system volume has no datastore
        v = value[i] if isinstance(value, list) else value
        setpath(data, f"{head}[{i}]{tail}", v)


def site_spec() -> dict[str, Any]:
    """The DCS example with every placeholder replaced by a site's own value."""
    data = example("dcs")
    data.update(hostIP="10.20.0.5", controlPlaneVIP="10.20.0.100", platformHost="acp.site.lan",
                registryDomain="acp.site.lan:11443")
    for pattern, value in REPLACED["dcs"].items():
        _replace(data, pattern, value)
    data["platform"]["sshAuthorizedKeys"] = [
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISiteOwnKeyZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ ops@site"]
    return data


@pytest.mark.parametrize("provider_id", PROVIDERS)
def test_validate_lists_each_example_value_by_field(
        provider_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path / "spec.yaml", example(provider_id))
    assert main(["validate", "-f", str(spec)]) == 0
    err = capsys.readouterr().err
    own = load_provider(provider_id).spec_example()
    assert own is not None and own.placeholders
    for field in PLACEHOLDERS:
        assert f"{field}: still holds the `acp-install init` example value" in err
    for pattern in own.placeholders:
        # the first item of a list holding one names the field, the others are in the message
        concrete = re.escape(pattern).replace(re.escape("[*]"), r"\[\d+\]")
        assert re.search(rf"{concrete}: still holds the `acp-install init` example value", err), pattern


def test_render_lists_them_too_and_still_renders(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path / "spec.yaml", example("dcs"))
    assert main(["render", "-f", str(spec), "--output-dir", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "platform.credentials.site: still holds the `acp-install init` example value EC1C108C" in err
    assert "(so do platform.controlPlane.pool[1].ip, platform.controlPlane.pool[2].ip)" in err
    assert (tmp_path / "out" / "global.yaml").is_file()


def test_a_site_spec_has_no_example_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-f", str(write(tmp_path / "spec.yaml", site_spec()))]) == 0
    assert "example value" not in capsys.readouterr().err


def test_one_left_value_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = setpath(site_spec(), "platform.controlPlane.pool[2].dns", "192.168.10.2")
    assert main(["validate", "-f", str(write(tmp_path / "spec.yaml", data))]) == 0
    err = capsys.readouterr().err
    assert err.count("still holds") == 1
    assert "platform.controlPlane.pool[2].dns: still holds the `acp-install init` example value " \
           "192.168.10.2\n" in err


def test_install_refuses_to_start_with_example_values(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        canaries: dict[str, str]) -> None:
    monkeypatch.delenv("ACP_INSTALL_ACCEPT_EXAMPLE_VALUES", raising=False)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("garbage: [\n")  # never read: the refusal comes first
    spec = write(tmp_path / "spec.yaml", example("dcs"))
    work = tmp_path / "w"
    assert main(["install", "-f", str(spec), "--kubeconfig", str(kubeconfig),
                 "--workdir", str(work)]) == 3
    err = capsys.readouterr().err
    assert "platform.credentials.endpoint: still holds the `acp-install init` example value " \
           "https://dcs.example.com:7443: install refuses to start" in err
    assert "hostIP:" in err and "--accept-example-values" in err
    assert "cannot load kubeconfig" not in err and "Traceback" not in err
    assert not work.exists(), "nothing may be written before the refusal"

    # the explicit escape hatch goes on (to the kubeconfig, which is broken here)
    assert main(["install", "-f", str(spec), "--kubeconfig", str(kubeconfig),
                 "--workdir", str(work), "--accept-example-values"]) == 10
    assert "cannot load kubeconfig" in capsys.readouterr().err


def test_install_of_a_site_spec_is_not_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               canaries: dict[str, str]) -> None:
    monkeypatch.delenv("ACP_INSTALL_ACCEPT_EXAMPLE_VALUES", raising=False)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("garbage: [\n")
    spec = write(tmp_path / "spec.yaml", site_spec())
    assert main(["install", "-f", str(spec), "--kubeconfig", str(kubeconfig),
                 "--workdir", str(tmp_path / "w")]) == 10


def test_sandbox_run_of_the_built_in_example_is_excepted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("ACP_INSTALL_ACCEPT_EXAMPLE_VALUES", raising=False)
    assert main(["install", "--sandbox", "--provider", "dcs", "--until", "packages",
                 "--workdir", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "example value" in captured.err  # still said, once, as warnings


def test_init_from_env_says_what_it_read_and_what_it_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for var in ("HOST_IP", "CONTROL_PLANE_VIP", "PLATFORM_HOST", "REGISTRY_DOMAIN", "K8S_VERSION",
                "NODE_REGISTRY_ADDRESS", "DCS_PROVIDER_PACK"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOST_IP", "10.1.1.5")
    monkeypatch.setenv("K8S_VERSION", "v1.33.7-4")
    monkeypatch.setenv("PLATFORM_HOST", "acp.site.lan")
    out = tmp_path / "global.yaml"
    assert main(["init", "--provider", "dcs", "--from-env", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "read from the environment: HOST_IP, PLATFORM_HOST, K8S_VERSION" in err
    line = next(line for line in err.splitlines() if line.startswith("kept example values"))
    kept = line.split(": ", 1)[1].split(", ")
    assert {"controlPlaneVIP", "registryDomain", "platform.controlPlane.pool[*].ip",
            "platform.credentials.site"} <= set(kept)
    assert "hostIP" not in kept and "platformHost" not in kept  # read from the environment
    assert "hostIP: 10.1.1.5" in out.read_text()


def test_init_from_env_with_nothing_set(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from acp_install.spec.example import ENV

    for var in ENV:
        monkeypatch.delenv(var, raising=False)
    assert main(["init", "--provider", "hcs", "--from-env"]) == 0
    captured = capsys.readouterr()
    assert "read from the environment: no Step 1 variable was set" in captured.err
    assert "kept example values" in captured.err and "read from" not in captured.out
