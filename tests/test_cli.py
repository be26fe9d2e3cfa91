"""The command line: start-up imports, init/explain/lint/providers behaviour, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from acp_install.cli.main import main
from acp_install.errors import EXIT_CODES

from specs import example, write

HEAVY = ("kubernetes", "httpx", "rich")  # rich: only a live view on a terminal loads it


def imported_after(*argv: str) -> set[str]:
    code = ("import sys\nfrom acp_install.cli.main import main\n"
            f"rc = main({list(argv)!r})\n"
            "print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"ACP_ADMIN_PASSWORD": "x", "DCS_AUTH_KEY": "y", "PATH": "/usr/bin"})
    return set(out.stdout.split())


def test_help_and_render_do_not_import_kubernetes_or_httpx(tmp_path: Path) -> None:
    assert not set(HEAVY) & imported_after("--help")
    assert not set(HEAVY) & imported_after("--version")
    assert not set(HEAVY) & imported_after("install", "--help")
    spec = write(tmp_path / "s.yaml", example("dcs"))
    assert not set(HEAVY) & imported_after("render", "-f", str(spec), "-o", str(tmp_path / "o"))
    assert (tmp_path / "o" / "global.yaml").exists()


def test_init_writes_a_valid_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "spec.yaml"
    assert main(["init", "--provider", "dcs", "-o", str(out)]) == 0
    assert main(["validate", "-f", str(out)]) == 0
    assert main(["init", "--provider", "dcs", "-o", str(out)]) == 2  # exists, no --force
    assert "--force" in capsys.readouterr().err


def test_init_from_env_takes_the_seed_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"HOST_IP": "10.1.1.5", "CONTROL_PLANE_VIP": "10.1.1.200", "PLATFORM_HOST": "acp.corp",
           "REGISTRY_DOMAIN": "acp.corp:11443", "K8S_VERSION": "v1.35.6-acp.1",
           "CLUSTER_CIDR": "10.200.0.0/16", "SERVICE_CIDR": "10.201.0.0/16",
           "KUBE_OVN_JOIN_CIDR": "100.64.0.0/16", "INGRESS_CLASS_NAME": "global-alb2",
           "HCS_SECRET_NAME": "global-old", "PROVIDER_SECRET_NAME": "global-dcs",
           "BOOTSTRAP_REGISTRY_ADDRESS": "172.19.0.1:11443",
           "DCS_PROVIDER_PACK": "/root/dcs.tgz", "DCS_PROVIDER_VERSION": "v1.0.22",
           "KUBEADM_PROVIDER_PACK": "/root/k.tgz", "KUBEADM_PROVIDER_VERSION": "v1.0.15"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    out = tmp_path / "spec.yaml"
    assert main(["init", "--provider", "dcs", "--from-env", "-o", str(out)]) == 0
    text = out.read_text()
    for needle in ("hostIP: 10.1.1.5", "controlPlaneVIP: 10.1.1.200", "k8sVersion: v1.35.6-acp.1",
                   "providerSecretName: global-dcs", '"172.19.0.1:11443"', "path: /root/dcs.tgz",
                   'version: "v1.0.22"', "kubeOvnJoinCIDR: 100.64.0.0/16"):
        assert needle in text
    assert main(["validate", "-f", str(out)]) == 0


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    assert "hostIP  (string; required)  [HOST_IP]" in out
    assert "localRegistryAddress  (string; default: '127.0.0.1:11443')  [LOCAL_REGISTRY_ADDRESS]" in out
    assert main(["explain", "--provider", "dcs", "platform.controlPlane.pool"]) == 0
    out = capsys.readouterr().out
    assert "platform.controlPlane.pool[].mask" in out and "Prefix length" in out
    assert main(["explain", "nosuchfield"]) == 2
    assert main(["explain", "--provider", "dcs"]) == 0
    out = capsys.readouterr().out  # YAML words, not Python names
    assert "list of mapping" in out and "secret reference" in out
    assert not any(w in out for w in ("(str;", "(int;", "SecretRef", "list[", "| None", "Literal["))


def test_lint_reports_file_line_rule_and_consequence(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "global.yaml"
    manifest.write_text("""\
apiVersion: cluster.x-k8s.io/v1beta1
kind: Cluster
metadata:
  name: prod
  namespace: cpaas-system
spec:
  controlPlaneRef: {apiVersion: controlplane.cluster.x-k8s.io/v1beta1, kind: KubeadmControlPlane, name: kcp}
  infrastructureRef: {apiVersion: infrastructure.cluster.x-k8s.io/v1beta1, kind: DCSCluster, name: global}
---
apiVersion: controlplane.cluster.x-k8s.io/v1beta1
kind: KubeadmControlPlane
metadata:
  name: kcp
  namespace: cpaas-system
spec: {}
---
apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: DCSCluster
metadata:
  name: global
  namespace: default
""")
    assert main(["lint", str(manifest)]) == 4
    err = capsys.readouterr().err
    assert f"{manifest}:4 Cluster/prod metadata.name" in err and "exactly 'global'" in err
    assert f"{manifest}:13 KubeadmControlPlane/kcp metadata.name" in err
    assert "deleted at the first failover" in err
    assert f"{manifest}:21 DCSCluster/global metadata.namespace" in err
    assert "Traceback" not in err


def test_lint_accepts_rendered_manifest(tmp_path: Path) -> None:
    spec = write(tmp_path / "s.yaml", example("dcs"))
    assert main(["render", "-f", str(spec), "-o", str(tmp_path / "o")]) == 0
    assert main(["lint", str(tmp_path / "o" / "global.yaml")]) == 0


def test_lint_dangling_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path / "s.yaml", example("dcs"))
    assert main(["render", "-f", str(spec), "-o", str(tmp_path / "o")]) == 0
    path = tmp_path / "o" / "global.yaml"
    path.write_text(path.read_text().replace("name: global-cp-pool\n---", "name: global-cp-pol\n---"))
    assert main(["lint", str(path)]) == 4
    assert "references global-cp-pol, which is not in the manifest" in capsys.readouterr().err


def test_exit_code_table_is_documented() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "exit-codes.md").read_text()
    for code, name, _meaning in EXIT_CODES:
        assert f"| {code} | `{name}` |" in doc


def test_debug_shows_traceback(tmp_path: Path) -> None:
    spec = tmp_path / "nope.yaml"
    out = subprocess.run([sys.executable, "-m", "acp_install.cli.main", "--debug", "validate", "-f",
                          str(spec)], capture_output=True, text=True)
    assert out.returncode == 3 and "Traceback" in out.stderr  # --debug keeps the exit code
    out = subprocess.run([sys.executable, "-m", "acp_install.cli.main", "validate", "-f", str(spec)],
                         capture_output=True, text=True)
    assert out.returncode == 3 and "Traceback" not in out.stderr


def test_providers_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["providers", "-o", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    dcs = next(p for p in data["providers"] if p["id"] == "dcs")
    assert dcs["distribution"] == "acp-install-dcs" and dcs["contract"] == data["contract"]


def test_json_schema_accepts_the_example_and_rejects_typos(capsys: pytest.CaptureFixture[str]) -> None:
    import jsonschema

    assert main(["schema", "--provider", "dcs"]) == 0
    schema = json.loads(capsys.readouterr().out)
    data = example("dcs")
    jsonschema.validate(data, schema)
    data["hostIp"] = data.pop("hostIP")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)
    data = example("dcs")
    data["credentials"]["admin"]["password"] = "literal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_lint_namespace_template_cluster_name_and_shapes(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text("""\
apiVersion: cluster.x-k8s.io/v1beta1
kind: MachineDeployment
metadata:
  name: global-workers
spec:
  clusterName: global
  template:
    spec:
      clusterName: other
---
apiVersion: controlplane.cluster.x-k8s.io/v1beta1
kind: KubeadmControlPlane
metadata: [1]
""")
    assert main(["lint", str(manifest)]) == 4
    err = capsys.readouterr().err
    assert "MachineDeployment/global-workers metadata.namespace: no namespace" in err
    assert "spec.template.spec.clusterName: clusterName is 'other'" in err
    assert "metadata must be a mapping, not list" in err and "Traceback" not in err


def test_lint_refuses_files_without_objects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    assert main(["lint", str(empty), str(listing)]) == 4
    err = capsys.readouterr().err
    assert f"{empty}: no Kubernetes objects found" in err and "not a Kubernetes object" in err


@pytest.mark.parametrize("content", ["garbage: [\n", "apiVersion: v1\nclusters: 5\n"], ids=["not-yaml", "bad-shape"])
def test_install_with_malformed_kubeconfig(tmp_path: Path, canaries: dict[str, str], content: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(content)
    spec = write(tmp_path / "s.yaml", example("dcs"))
    assert main(["install", "-f", str(spec), "--kubeconfig", str(kubeconfig),
                 "--workdir", str(tmp_path / "w")]) == 10
    err = capsys.readouterr().err
    assert "cannot load kubeconfig" in err and "Traceback" not in err


def test_demo_json_output_is_json_lines_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--provider", "dcs", "-o", "json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    kinds = {e["event"] for e in events}
    assert {"finding", "phase-started", "result"} <= kinds
    findings = {e["path"]: e for e in events if e["event"] == "finding"}
    # the example leaves the join CIDR (a site value) unset: the DCS docs mark its annotation required
    assert "built-in example" in findings["kubeOvnJoinCIDR"]["source"]
    # its placeholders are listed, yet a sandbox run of the built-in example starts
    assert "example value" in findings["platform.credentials.endpoint"]["message"]


def test_an_internal_error_is_one_line_with_exit_code_1(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A bug (not an AcpInstallError) still gets the documented code 1 and no traceback; its
    text, which could quote anything, is not shown."""
    from acp_install.cli import spec_cmds
    from acp_install.cli.main import main

    def boom(*_a: object, **_k: object) -> None:
        raise KeyError("canary-internal-text")

    monkeypatch.setattr(spec_cmds, "example_spec", boom, raising=False)
    monkeypatch.setattr("acp_install.spec.example.example_spec", boom)
    rc = main(["init", "--provider", "dcs", "-o", "-"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "internal error" in err and "--debug" in err
    assert "KeyError" not in err  # no Python names in what a user reads
    assert "Traceback" not in err and "canary-internal-text" not in err


def test_the_console_script_answers_version_without_click(capsys: pytest.CaptureFixture[str]) -> None:
    """``acp-install --version`` is a bare interpreter plus one small module (bench/startup.py)."""
    from importlib import metadata

    from acp_install._version import __version__

    assert __version__ == metadata.version("acp-install")
    code = ("import sys\nsys.argv = ['acp-install', '--version']\n"
            "from acp_install.cli import launch\n"
            "try:\n    launch.run()\nexcept SystemExit:\n    pass\n"
            "print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    line, modules = out.splitlines()
    assert not {"click", "yaml", "attrs", "pluggy", *HEAVY} & set(modules.split())
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == line == f"acp-install, version {__version__}"
