"""The helpers of acp_install.provider that every provider shares (one implementation each)."""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import pytest

from acp_install import load_provider, parse
from acp_install.provider import (
    SSH_PUBLIC_KEY,
    Findings,
    InstallSpec,
    KubeadmContribution,
    ObjectRef,
    SecretRef,
    kcp_base_findings,
    matrix_field,
    platform_of,
    secret_object,
    spec_example,
    worker_findings,
    worker_group,
)

from specs import example

PLUGINS = Path(__file__).resolve().parent.parent / "plugins"


@attrs.frozen
class _Worker:
    name: str
    replicas: int = 1


def test_platform_of_returns_the_section_and_refuses_another_providers() -> None:
    from acp_install_dcs.models import DcsPlatform
    from acp_install_hcs.models import HcsPlatform

    spec = parse(example("dcs"), provider=load_provider("dcs")).spec
    assert platform_of(spec, DcsPlatform) is spec.platform
    with pytest.raises(TypeError, match="DcsPlatform, not a HcsPlatform"):
        platform_of(spec, HcsPlatform)


def test_findings_carry_the_provider_rule_unless_a_rule_is_given() -> None:
    findings = Findings(rule="foo")
    e = findings.error("platform.a", "bad", "fix it")
    w = findings.warning("platform.b", "odd", "look", "foo-odd")
    assert (e.severity, e.path, e.message, e.fix, e.rule) == ("error", "platform.a", "bad", "fix it", "foo")
    assert (w.severity, w.rule) == ("warning", "foo-odd")


def test_global_name_reports_an_invalid_name_or_a_missing_prefix_at_the_spec_field() -> None:
    findings = Findings(rule="foo")
    assert list(findings.global_name("p.name", "global-ok", "Pool")) == []
    [bad] = findings.global_name("p.name", "Not_Valid", "Pool", "foo-name")
    assert (bad.path, bad.rule) == ("p.name", "foo-name")
    [prefix] = findings.global_name("p.name", "workers", "Pool")
    assert prefix.rule == "global-prefix" and "Pool 'workers' lacks the 'global-' prefix" in prefix.message
    assert prefix.fix == "rename it to global-workers"


def test_worker_findings_catch_repeated_names_and_negative_replicas() -> None:
    workers = [_Worker("global-a"), _Worker("global-b", -1), _Worker("global-a")]
    found = list(worker_findings(workers, Findings(rule="foo"), rule="foo-worker"))
    assert [(f.path, f.rule) for f in found] == [("platform.workers[1].replicas", "foo-worker"),
                                                 ("platform.workers[2].name", "foo-worker")]
    assert "repeats platform.workers[0]" in found[1].message
    assert list(worker_findings([_Worker("global-a")], Findings(rule="foo"))) == []


def test_worker_group_wires_name_replicas_template_and_options() -> None:
    ref = ObjectRef("infrastructure.cluster.x-k8s.io/v1beta1", "FooMachineTemplate", "global-w-template")
    kubeadm = KubeadmContribution(pre_kubeadm_commands=("true",))
    group = worker_group(_Worker("global-w", 4), ref, kubeadm, labels={"pool": "p"}, max_surge=1)
    assert (group.name, group.replicas, group.infrastructure, group.kubeadm) == ("global-w", 4, ref, kubeadm)
    assert (dict(group.labels), group.max_surge, group.max_unavailable) == ({"pool": "p"}, 1, 1)


def test_secret_object_keeps_references_and_the_emitted_key_order() -> None:
    spec = parse(example("dcs"), provider=load_provider("dcs")).spec
    ref = SecretRef(env="FOO_TOKEN")
    obj = secret_object(spec, "global-foo", {"token": ref}, type="foo/type", labels={"a": "b"})
    assert list(obj) == ["apiVersion", "kind", "metadata", "type", "stringData"]
    assert obj["metadata"] == {"name": "global-foo", "namespace": spec.namespace, "labels": {"a": "b"}}
    assert obj["type"] == "foo/type" and obj["stringData"]["token"] is ref
    assert secret_object(spec, "global-x", {})["type"] == "Opaque"


def test_spec_example_renders_the_package_template() -> None:
    text = spec_example("acp_install_dcs").platform_yaml
    assert "credentials:" in text and "{{" not in text and "{%" not in text


@pytest.mark.parametrize("key, ok", [
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI user@host", True),
    ("ecdsa-sha2-nistp256 AAAAE2VjZHNh", True),
    ("ssh-ed25519", False),
    ("not a key", False),
])
def test_ssh_public_key(key: str, ok: bool) -> None:
    assert bool(SSH_PUBLIC_KEY.match(key)) is ok


@pytest.mark.parametrize("provider", ["dcs", "vsphere", "hcs", "baremetal"])
def test_providers_share_one_layout_and_no_private_copies(provider: str) -> None:
    """plugin.py holds hookimpls; the helpers above are not written again in a provider."""
    package = PLUGINS / provider / f"acp_install_{provider}"
    for module in ("plugin", "models", "render", "validate"):
        assert (package / f"{module}.py").is_file(), module
    assert not (package / "checks.py").exists()
    for source in package.glob("*.py"):
        text = source.read_text()
        assert not re.search(r"^def (_platform|platform_of|_e|_w)\(", text, re.M), source.name
        assert '"kind": "Secret", "metadata"' not in text, source.name
        assert "WorkerGroup(" not in text, source.name


@attrs.frozen
class _KcpBase:
    """A provider's platform section as kcp_base_findings reads it (the KcpBaseSection fields)."""

    dnsImageTag: str | None = matrix_field("coredns", " (from the template)")
    etcdImageTag: str | None = matrix_field("etcd")
    kubeOvnVersion: str | None = matrix_field("kubeOvnChart", " (create page)", where=" (guide)",
                                              unset="required, unset is a warning")
    clusterAnnotations: dict[str, str] = attrs.field(factory=dict)


#: the OS Support Matrix row of the example's Kubernetes version v1.34.5-3 (ACP v4.3.2)
_DNS, _ETCD = "1.14.2-v4.3.11", "v3.5.28-260625"


def _base_spec(**top: object) -> InstallSpec:
    data = example("hcs")
    data.update(top)
    spec = parse(data, provider=load_provider("hcs")).spec
    assert spec.k8sVersion == "v1.34.5-3"
    return spec


def test_kcp_base_findings_word_the_missing_annotations_as_the_provider_says() -> None:
    findings = Findings(rule="foo")
    got = list(kcp_base_findings(findings, _base_spec(), _KcpBase(_DNS, _ETCD), annotation="the Foo page's "
                                 "Cluster annotation", unset="is not rendered"))
    assert [(f.severity, f.path, f.rule) for f in got] == [
        ("warning", "kubeOvnJoinCIDR", "annotations"), ("warning", "platform.kubeOvnVersion", "annotations")]
    assert got[0].message == "not set: the Foo page's Cluster annotation cpaas.io/kube-ovn-join-cidr is not rendered"
    assert got[1].message == "not set: the Foo page's Cluster annotation cpaas.io/kube-ovn-version is not rendered"
    assert got[1].fix is not None and "kube-ovn (chart) column" in got[1].fix and "ACP v4.3.2" in got[1].fix


def test_kcp_base_findings_are_silent_when_the_field_or_an_annotation_gives_the_value() -> None:
    findings = Findings(rule="foo")
    by_annotation = _KcpBase(_DNS, _ETCD, clusterAnnotations={"cpaas.io/kube-ovn-join-cidr": "100.64.0.0/16",
                                                         "cpaas.io/kube-ovn-version": "v1.15.5"})
    assert list(kcp_base_findings(findings, _base_spec(), by_annotation,
                                  annotation="a", unset="b")) == []
    joined = _base_spec(kubeOvnJoinCIDR="100.64.0.0/16")
    got = list(kcp_base_findings(findings, joined, _KcpBase(_DNS, _ETCD), annotation="a", unset="b"))
    assert [f.path for f in got] == ["platform.kubeOvnVersion"]


def test_kcp_base_findings_pass_the_providers_source_to_the_unset_tag_warnings() -> None:
    findings = Findings(rule="foo")
    got = list(kcp_base_findings(findings, _base_spec(kubeOvnJoinCIDR="100.64.0.0/16"),
                                 _KcpBase(kubeOvnVersion="v1.15.5"),
                                 annotation="a", unset="b", also=" or the Foo ConfigMap"))
    tags = [f for f in got if f.path in ("platform.dnsImageTag", "platform.etcdImageTag")]
    assert [f.path for f in tags] == ["platform.dnsImageTag", "platform.etcdImageTag"]
    assert all(f.rule == "image-tags" and f.fix and f.fix.endswith(" or the Foo ConfigMap") for f in tags)


def test_matrix_field_is_unset_by_default_and_documents_the_column_in_the_providers_words() -> None:
    fields = {f.name: f for f in attrs.fields(_KcpBase)}
    assert _KcpBase().dnsImageTag is None and _KcpBase().kubeOvnVersion is None
    assert fields["dnsImageTag"].metadata["doc"] == (
        "clusterConfiguration.dns.imageTag: the coredns column of the OS Support Matrix row "
        "(from the template); unset is a warning.")
    assert fields["etcdImageTag"].metadata["doc"] == (
        "clusterConfiguration.etcd.local.imageTag: the etcd column of the OS Support Matrix row; "
        "unset is a warning.")
    assert fields["kubeOvnVersion"].metadata["doc"] == (
        "cpaas.io/kube-ovn-version Cluster annotation (create page): the kube-ovn (chart) column of "
        "the OS Support Matrix (guide); required, unset is a warning.")
    with pytest.raises(ValueError, match="'kubeOvn' is not an OS Support Matrix column"):
        matrix_field("kubeOvn")
