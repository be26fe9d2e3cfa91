"""Bad input: the right exit code, a message naming the field (and line), no traceback, and
nothing written."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from acp_install.cli.main import main

from specs import DELETE, example, setpath, write

Mutation = Callable[[dict[str, Any]], Any]


def s(path: str, value: Any) -> Mutation:
    return lambda d: setpath(d, path, value)


def both(*ms: Mutation) -> Mutation:
    def run(d: dict[str, Any]) -> None:
        for m in ms:
            m(d)
    return run


CP = "platform.controlPlane"
# (id, mutation, exit code, text the error must contain)
CASES: list[tuple[str, Mutation, int, str]] = [
    ("k8s-no-v", s("k8sVersion", "1.34.5"), 3, "k8sVersion"),
    ("k8s-garbage", s("k8sVersion", "latest"), 3, "not a v-prefixed"),
    ("k8s-wrong-type", s("k8sVersion", 1.34), 3, "k8sVersion: expected a string"),
    ("missing-host-ip", s("hostIP", DELETE), 3, "hostIP: required field missing"),
    ("bad-host-ip", s("hostIP", "10.0.0.300"), 3, "hostIP"),
    ("bad-vip", s("controlPlaneVIP", "vip.example"), 3, "controlPlaneVIP"),
    ("cidr-no-prefix", s("clusterCIDR", "100.3.0.0"), 3, "clusterCIDR"),
    ("cidr-host-bits", s("serviceCIDR", "100.4.0.1/16"), 3, "serviceCIDR"),
    ("cidr-overlap", s("serviceCIDR", "100.3.128.0/17"), 3, "overlaps clusterCIDR"),
    ("join-overlap", s("kubeOvnJoinCIDR", "100.4.0.0/24"), 3, "kubeOvnJoinCIDR"),
    ("vip-in-pod-cidr", both(s("controlPlaneVIP", "100.3.0.9")), 3, "lies inside clusterCIDR"),
    ("registry-v2", s("bootstrapRegistryAddress", "172.18.0.1:11443/v2/"), 3,
     "bootstrapRegistryAddress"),
    ("registry-scheme", s("registryDomain", "https://platform.example.com:11443"), 3,
     "registryDomain"),
    ("registry-no-port", s("nodeRegistryAddress", "192.168.1.10"), 3, "nodeRegistryAddress"),
    # node-facing addresses: dialled from the node subnet, never loopback/link-local/KIND
    ("node-registry-loopback", s("nodeRegistryAddress", "127.0.0.1:11443"), 3,
     "nodeRegistryAddress: nodeRegistryAddress must be reachable from the node subnet: 127.0.0.1 is a "
     "loopback address"),
    ("node-registry-kind-network", s("nodeRegistryAddress", "172.18.0.1:11443"), 3,
     "172.18.0.1 is inside the KIND network 172.18.0.0/16"),
    ("node-registry-localhost", s("nodeRegistryAddress", "localhost:11443"), 3,
     "nodeRegistryAddress: nodeRegistryAddress must be reachable"),
    ("node-registry-derived-loopback", s("hostIP", "127.0.0.1"), 3,
     "hostIP: hostIP (nodeRegistryAddress is derived from it) must be reachable"),
    ("registry-domain-kind-network", s("registryDomain", "172.18.0.5:11443"), 3,
     "registryDomain: registryDomain must be reachable from the node subnet"),
    ("registry-domain-link-local", s("registryDomain", "169.254.10.1:11443"), 3, "link-local"),
    ("kind-network-configured", both(s("kindNetworkCIDR", "10.89.0.0/16"),
                                     s("nodeRegistryAddress", "10.89.0.1:11443")), 3,
     "inside the KIND network 10.89.0.0/16"),
    ("kind-network-not-cidr", s("kindNetworkCIDR", "172.18.0.1"), 3, "kindNetworkCIDR"),
    ("third-party-cert-literal", s("console.cert.thirdParty", {"certificate": "-----BEGIN",
                                                               "privateKey": {"env": "K"}}), 3,
     "console.cert.thirdParty.certificate: literal secrets are not allowed"),
    ("third-party-pkcs12-no-key-name", s("console.cert.thirdParty", {
        "certificate": {"env": "C"}, "privateKey": {"env": "K"}, "pkcs12": {"env": "P"}}), 3,
     "console.cert.thirdParty.keys.pkcs12:"),
    ("unknown-top-key", s("hostIp", "192.168.1.10"), 3, "hostIp: unknown field"),
    ("did-you-mean-top", s("hostIp", "192.168.1.10"), 3,
     "hostIp: unknown field; did you mean 'hostIP'?\n    fix: rename it to hostIP"),
    ("did-you-mean-nested", s("controlPlane.replica", 3), 3,
     "controlPlane.replica: unknown field; did you mean 'replicas'?"),
    ("did-you-mean-platform", s(f"{CP}.pol", []), 3,
     f"{CP}.pol: unknown field; did you mean 'pool'?"),
    ("unknown-key-no-guess", s("zzzz", 1), 3,
     "zzzz: unknown field\n    fix: remove it or check its spelling"),
    ("unknown-platform-key", s("platform.credentials.password", "x"), 3,
     "platform.credentials.password: unknown field"),
    ("literal-admin-secret", s("credentials.admin.password", "hunter2"), 3,
     "credentials.admin.password: literal secrets are not allowed"),
    ("literal-dcs-secret", s("platform.credentials.authKey", "hunter2"), 3,
     "platform.credentials.authKey: literal secrets"),
    ("secret-two-sources", s("credentials.admin.password", {"env": "A", "file": "/x"}), 3,
     "exactly one"),
    ("replicas-string", s("controlPlane.replicas", "3"), 3, "controlPlane.replicas: expected an integer"),
    ("replicas-zero", s("controlPlane.replicas", 0), 3, "controlPlane.replicas"),
    ("format-cloud-config", s("controlPlane.format", "cloud-config"), 3,
     "invalid format, expected ignition, got cloud-config"),
    ("format-cloud-init", s("controlPlane.format", "cloud-init"), 3, "cloud-init"),
    ("mask-slash", s(f"{CP}.pool[0].mask", "/24"), 3, f"{CP}.pool[0].mask"),
    ("mask-dotted", s(f"{CP}.pool[1].mask", "255.255.255.0"), 3, f"{CP}.pool[1].mask"),
    ("pool-dup-ip", s(f"{CP}.pool[1].ip", "192.168.10.11"), 3, f"{CP}.pool[1].ip"),
    ("vip-in-pool", s(f"{CP}.pool[2].ip", "192.168.1.100"), 3, "VIP must not be inside a node pool"),
    ("pool-too-small", s(f"{CP}.pool", []), 3, "pool size >= replicas"),
    ("persistent-disk-no-datastore", s(f"{CP}.pool[0].persistentDisk[0].datastoreName", DELETE), 3,
     f"{CP}.pool[0].persistentDisk[0]: a persistent disk without a datastore"),
    ("persistent-disk-two-datastores", s(f"{CP}.pool[1].persistentDisk[0].datastoreClusterName", "dsc"),
     3, "both datastoreName and datastoreClusterName"),
    ("nic-no-port-group", s(f"{CP}.pool[0].additionNic", [{"ip": "10.9.0.11", "mask": "24",
                                                           "dvSwitchName": "dvs1"}]), 3,
     f"{CP}.pool[0].additionNic[0].portGroupName: missing"),
    ("nic-bad-ip", s(f"{CP}.pool[0].additionNic", [{"ip": "10.9.0.300", "mask": "24",
                                                    "dvSwitchName": "d", "portGroupName": "p"}]), 3,
     f"{CP}.pool[0].additionNic[0].ip"),
    ("nic-dotted-mask", s(f"{CP}.pool[0].additionNic", [{"ip": "10.9.0.11", "mask": "255.255.255.0",
                                                         "dvSwitchName": "d", "portGroupName": "p"}]), 3,
     f"{CP}.pool[0].additionNic[0].mask"),
    ("nic-ip-is-a-node-ip", s(f"{CP}.pool[0].additionNic", [{"ip": "192.168.10.12", "mask": "24",
                                                             "dvSwitchName": "d", "portGroupName": "p"}]),
     3, "IP '192.168.10.12' is already used"),
    ("nic-gateway-outside", s(f"{CP}.pool[0].additionNic", [{"ip": "10.9.0.11", "mask": "24",
                                                             "gateway": "10.8.0.1", "dvSwitchName": "d",
                                                             "portGroupName": "p"}]), 3,
     "gateway 10.8.0.1 is outside the NIC's subnet"),
    ("nic-bad-dns", s(f"{CP}.pool[0].additionNic", [{"ip": "10.9.0.11", "mask": "24", "dns": "10.9.0.2;x",
                                                     "dvSwitchName": "d", "portGroupName": "p"}]), 3,
     f"{CP}.pool[0].additionNic[0].dns"),
    ("two-system-volumes", s(f"{CP}.disks[1].systemVolume", True), 3, "systemVolume"),
    ("missing-etcd-disk", s(f"{CP}.disks[1].path", "/data"), 3, "/var/lib/etcd"),
    ("cpaas-on-template", s(f"{CP}.disks[1].path", "/var/cpaas"), 3, "pool persistentDisk"),
    ("empty-ssh-keys", s("platform.sshAuthorizedKeys", []), 3, "platform.sshAuthorizedKeys"),
    ("bad-ssh-key", s("platform.sshAuthorizedKeys", ["not a key"]), 3,
     "platform.sshAuthorizedKeys[0]"),
    ("internal-lb", s("platform.loadBalancer.type", "internal"), 3, "platform.loadBalancer.type"),
    ("endpoint-no-scheme", s("platform.credentials.endpoint", "dcs.example:7443"), 3,
     "platform.credentials.endpoint"),
    ("bad-user-type", s("platform.credentials.userType", "1"), 3, "platform.credentials.userType"),
    ("cluster-annotations-list", s("platform.clusterAnnotations", ["a"]), 3,
     "platform.clusterAnnotations: expected a mapping"),
    ("cluster-annotation-bad-key", s("platform.clusterAnnotations", {"cpaas.io/bad key": "x"}), 3,
     "platform.clusterAnnotations.cpaas.io/bad key: 'cpaas.io/bad key' is not a valid annotation key"),
    ("cluster-annotation-int", s("platform.clusterAnnotations", {"cpaas.io/x": 1}), 3,
     "platform.clusterAnnotations['cpaas.io/x']: expected a string"),
    ("dns-image-tag-list", s("platform.dnsImageTag", ["1.14"]), 3, "platform.dnsImageTag"),
    ("audit-policy-dir", s("controlPlane.auditPolicyFile", "/"), 3,
     "controlPlane.auditPolicyFile: '/' is not a readable file"),
    ("unknown-provider", s("provider", "nosuchcloud"), 5, "unknown provider 'nosuchcloud'; installed providers:"),
    ("misspelled-provider", s("provider", "vspere"), 5, "unknown provider 'vspere' (did you mean 'vsphere'?)"),
    ("worker-no-prefix", lambda d: d["platform"].__setitem__("workers", [{
        **{k: v for k, v in d["platform"]["controlPlane"].items() if k != "pool"},
        "name": "worker", "replicas": 1,
        "pool": [{"ip": "192.168.10.40", "mask": "24", "gateway": "192.168.10.1",
                  "hostname": "w1"}]}]), 3, "lacks the 'global-' prefix"),
    ("dr-wrong-local-vip", s("dr", {"role": "standby", "primaryVIP": "192.168.1.100",
                                    "standbyVIP": "192.168.2.100",
                                    "encryptionKey": {"env": "K"}}), 3,
     "controlPlaneVIP must be the standby VIP"),
]


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize(("mutate", "code", "needle"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Mutation,
                  code: int, needle: str) -> None:
    data = example("dcs")
    mutate(data)
    spec = write(tmp_path / "spec.yaml", data)
    out = tmp_path / "out"
    assert main(["render", "-f", str(spec), "-o", str(out)]) == code
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err
    assert not out.exists(), "nothing may be written for a bad spec"
    assert main(["validate", "-f", str(spec)]) == code


def test_errors_point_at_the_yaml_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "spec.yaml"
    text = write(tmp_path / "base.yaml", example("dcs")).read_text()
    text = text.replace("k8sVersion: v1.34.5-3", "k8sVersion: 1.34")
    spec.write_text(text)
    line = text.splitlines().index("k8sVersion: 1.34") + 1
    assert main(["validate", "-f", str(spec)]) == 3
    assert f"{spec}:{line}: k8sVersion" in capsys.readouterr().err


def test_all_findings_reported_together(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = example("dcs")
    setpath(data, "k8sVersion", "1.0")
    setpath(data, "serviceCIDR", "100.3.0.0/16")
    setpath(data, "platform.sshAuthorizedKeys", [])
    assert main(["validate", "-f", str(write(tmp_path / "s.yaml", data))]) == 3
    err = capsys.readouterr().err
    assert "3 error(s)" in err
    assert "k8sVersion" in err and "serviceCIDR" in err and "sshAuthorizedKeys" in err


def _located(err: str, source: Path) -> list[tuple[int, str]]:
    """(line, text) of every finding printed for ``source``, in printed order."""
    found = re.findall(rf"^  (?:error|warning): {re.escape(str(source))}:(\d+): (.*)$", err, re.M)
    return [(int(n), text) for n, text in found]


def test_typo_and_cidr_overlap_reported_together_sorted_by_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A structural error late in the file and a semantic one early: both, in line order."""
    data = setpath(example("dcs"), "serviceCIDR", "100.3.128.0/17")
    setpath(data, f"{CP}.pol", [])
    spec = write(tmp_path / "s.yaml", data)
    assert main(["validate", "-f", str(spec)]) == 3
    err = capsys.readouterr().err
    assert "2 error(s)" in err and "Traceback" not in err
    located = _located(err, spec)
    lines = [n for n, _ in located]
    assert lines == sorted(lines)
    texts = [t for _, t in located]
    overlap = next(i for i, t in enumerate(texts) if t.startswith("serviceCIDR: serviceCIDR 100.3"))
    typo = next(i for i, t in enumerate(texts) if t.startswith(f"{CP}.pol: unknown field"))
    assert overlap < typo
    assert located[typo][0] == spec.read_text().splitlines().index("    pol: []") + 1


def test_provider_section_type_error_beside_core_semantic_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A broken ``platform:`` skips the provider's rules (documented) but not the core's."""
    data = setpath(example("dcs"), f"{CP}.pool[0].mask", 24)
    setpath(data, "k8sVersion", "latest")
    setpath(data, "platform.sshAuthorizedKeys", [])  # a provider rule: not run on a broken section
    assert main(["validate", "-f", str(write(tmp_path / "s.yaml", data))]) == 3
    err = capsys.readouterr().err
    assert "2 error(s)" in err and "Traceback" not in err
    assert f"{CP}.pool[0].mask: expected a string" in err
    assert "k8sVersion: 'latest' is not a v-prefixed semantic version" in err
    assert "sshAuthorizedKeys" not in err


@pytest.mark.parametrize(("mutate", "broken", "other"), [
    (s("controlPlane.replicas", "3"), "controlPlane.replicas: expected an integer",
     "serviceCIDR 100.3.128.0/17 overlaps clusterCIDR"),
    (s("hostIP", DELETE), "hostIP: required field missing",
     "serviceCIDR 100.3.128.0/17 overlaps clusterCIDR"),
    (s("controlPlaneVIP", ["x"]), "controlPlaneVIP: expected a string",
     "serviceCIDR 100.3.128.0/17 overlaps clusterCIDR"),
    (s("clusterCIDR", 7), "clusterCIDR: expected a string", "k8sVersion: 'latest'"),
    (s("dr", {"role": "primary", "primaryVIP": 5, "standbyVIP": "192.168.2.100",
              "encryptionKey": {"env": "K"}}), "dr.primaryVIP: expected a string",
     "serviceCIDR 100.3.128.0/17 overlaps clusterCIDR"),
], ids=["replicas-type", "missing-host-ip", "vip-type", "cidr-type", "dr-vip-type"])
def test_broken_core_field_hides_no_other_finding(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Mutation, broken: str,
        other: str) -> None:
    data = setpath(example("dcs"), "serviceCIDR", "100.3.128.0/17")
    setpath(data, "k8sVersion", "latest")
    mutate(data)
    assert main(["validate", "-f", str(write(tmp_path / "s.yaml", data))]) == 3
    err = capsys.readouterr().err
    assert broken in err and other in err and "Traceback" not in err


def test_missing_provider_still_runs_the_core_rules(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    data = setpath(example("dcs"), "provider", DELETE)
    setpath(data, "k8sVersion", "latest")
    assert main(["validate", "-f", str(write(tmp_path / "s.yaml", data))]) == 3
    err = capsys.readouterr().err
    assert "provider: required field missing" in err and "acp-install providers" in err
    assert "k8sVersion: 'latest'" in err and "Traceback" not in err


def test_not_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("provider: dcs\nhostIP: [unclosed\n")
    assert main(["validate", "-f", str(spec)]) == 3
    err = capsys.readouterr().err
    assert "not valid YAML" in err and "Traceback" not in err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-f", str(tmp_path / "nope.yaml")]) == 3
    assert "cannot read spec" in capsys.readouterr().err


def test_old_secret_name_alias_is_the_providers_not_the_cores(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """HCS declares ``hcsSecretName`` as an old name: accepted with a warning there, and on a
    provider that declares no alias an unknown key like any other (with the suggestion)."""
    hcs = example("hcs")
    hcs["hcsSecretName"] = hcs.pop("providerSecretName")
    assert main(["validate", "-f", str(write(tmp_path / "h.yaml", hcs))]) == 0
    assert "hcsSecretName: hcsSecretName is the old name of providerSecretName" in \
        capsys.readouterr().err
    hcs["providerSecretName"] = "global-secret"
    assert main(["validate", "-f", str(write(tmp_path / "h.yaml", hcs))]) == 3
    assert "both hcsSecretName and providerSecretName are set" in capsys.readouterr().err
    dcs = example("dcs")
    dcs["hcsSecretName"] = dcs.pop("providerSecretName")
    assert main(["validate", "-f", str(write(tmp_path / "d.yaml", dcs))]) == 3
    assert "hcsSecretName: unknown field; did you mean 'providerSecretName'?" in \
        capsys.readouterr().err


def test_unresolvable_secret_with_include_secrets(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACP_ADMIN_PASSWORD", raising=False)
    monkeypatch.setenv("DCS_AUTH_KEY", "canary-dcs")
    spec = write(tmp_path / "s.yaml", example("dcs"))
    out = tmp_path / "out"
    assert main(["render", "-f", str(spec), "-o", str(out), "--include-secrets"]) == 6
    err = capsys.readouterr().err
    assert "ACP_ADMIN_PASSWORD" in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(("mutate", "needle"), [
    (s("platform", [1, 2]), "platform: expected a mapping"),
    (s("credentials", [1]), "credentials: expected a mapping"),
    (s("controlPlane.auditPolicyFile", "/nonexistent/audit.yaml"), "controlPlane.auditPolicyFile"),
], ids=["platform-list", "credentials-list", "audit-file-missing"])
def test_more_bad_specs(tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Mutation,
                        needle: str) -> None:
    data = example("dcs")
    mutate(data)
    assert main(["render", "-f", str(write(tmp_path / "s.yaml", data)), "-o", str(tmp_path / "o")]) == 3
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_binary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    assert main(["validate", "-f", str(spec)]) == 3
    err = capsys.readouterr().err
    assert "not a UTF-8 text file" in err and "Traceback" not in err


def test_alias_bomb_is_refused_quickly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    spec = tmp_path / "s.yaml"
    spec.write_text("\n".join(lines) + "\n")
    assert main(["validate", "-f", str(spec)]) == 3
    assert "alias bomb" in capsys.readouterr().err


def test_init_into_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--provider", "dcs", "-o", str(tmp_path / "no" / "such" / "s.yaml")]) == 2
    err = capsys.readouterr().err
    assert "cannot write" in err and "Traceback" not in err


def test_yaml_syntax_error_has_no_empty_field_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("provider: dcs\nhostIP: [unclosed\n")
    assert main(["validate", "-f", str(spec)]) == 3
    err = capsys.readouterr().err
    assert f"{spec}:3: not valid YAML" in err and ": :" not in err


def test_unquoted_number_gets_a_quoting_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = setpath(example("dcs"), "platform.controlPlane.pool[0].mask", 24)
    assert main(["validate", "-f", str(write(tmp_path / "s.yaml", data))]) == 3
    err = capsys.readouterr().err
    assert "platform.controlPlane.pool[0].mask: expected a string" in err and 'e.g. "24"' in err


def test_dr_encryption_key_must_be_a_base64_aes_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    data = example("dcs")
    data["dr"] = {"role": "primary", "primaryVIP": "192.168.1.100", "standbyVIP": "192.168.2.100",
                  "encryptionKey": {"env": "DR_KEY"}}
    spec = write(tmp_path / "s.yaml", data)
    monkeypatch.setenv("DR_KEY", "canary-not-base64-key")
    assert main(["render", "-f", str(spec), "-o", str(tmp_path / "o")]) == 3
    err = capsys.readouterr().err
    assert "dr.encryptionKey" in err and "env $DR_KEY" in err and "canary-not-base64-key" not in err
    monkeypatch.setenv("DR_KEY", "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=")  # 32 bytes
    assert main(["render", "-f", str(spec), "-o", str(tmp_path / "o")]) == 0


def test_install_refuses_an_untouched_example_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Bad-input row "untouched example value": a real install names the field, exit 3,
    nothing written (the kubeconfig is never even read)."""
    monkeypatch.delenv("ACP_INSTALL_ACCEPT_EXAMPLE_VALUES", raising=False)
    spec = write(tmp_path / "spec.yaml", example("dcs"))
    work = tmp_path / "work"
    assert main(["install", "-f", str(spec), "--kubeconfig", str(tmp_path / "absent"),
                 "--workdir", str(work)]) == 3
    err = capsys.readouterr().err
    assert "platform.credentials.site: still holds the `acp-install init` example value EC1C108C: " \
           "install refuses to start" in err
    assert "Traceback" not in err and not work.exists()
