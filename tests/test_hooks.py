"""The hook contract: discovery by entry point, selection, contract version, every hook.

Each hookspec has a ``test_hook_<name>`` here (a test below checks that), run against a
third-party provider that lives outside the repository's plugins.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acp_install import Provider, load_provider, parse
from acp_install.cli.main import main
from acp_install.errors import PluginError
from acp_install.plan import build_plan
from acp_install.plugins import PluginWarning, iter_hook_names, load_all
from acp_install.provider import hookimpl

from fakeprovider import FOO_SPEC, FooProvider


def make_dist(root: Path, name: str, entry: str, module_source: str | None = None) -> None:
    """A fake installed distribution registering ``entry`` under acp_install.providers."""
    dist = root / f"acp_install_{name}-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: acp-install-{name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[acp_install.providers]\n{name} = {entry}\n")
    if module_source is not None:
        (root / f"{entry.split(':')[0]}.py").write_text(module_source)


@pytest.fixture
def foo_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site"
    make_dist(site, "foo", "fakeprovider:plugin")
    monkeypatch.syspath_prepend(str(site))
    yield site


@pytest.fixture
def foo() -> Provider:
    return Provider(FooProvider(), distribution="acp-install-foo", version="0.1")


def foo_plan(foo: Provider, **changes: Any) -> Any:
    return build_plan(parse({**FOO_SPEC, **changes}, provider=foo))


def test_every_hookspec_is_documented_and_tested() -> None:
    import acp_install.hookspecs as specs

    tests = {name for name in globals() if name.startswith("test_hook_")}
    for name in iter_hook_names():
        doc = getattr(specs, name).__doc__ or ""
        for required in ("**When:**", "**Kind:**", "**Mandatory:**", "Example::"):
            assert required in doc, f"{name} docstring lacks {required}"
        assert f"test_hook_{name}" in tests, f"no test_hook_{name}"


def test_hook_acp_provider_info(foo: Provider) -> None:
    assert foo.info.id == "foo" and foo.info.infra_cluster_kind == "FooCluster"


def test_hook_acp_validate(foo: Provider) -> None:
    with pytest.raises(Exception) as err:
        parse({**FOO_SPEC, "platform": {"region": "nowhere", "token": {"env": "T"}}}, provider=foo)
    assert "platform.region: unknown region" in str(err.value)


def test_hook_acp_packages(foo: Provider) -> None:
    plan = foo_plan(foo)
    assert [p.release_name for p in plan.packages] == ["cluster-api-provider-kubeadm",
                                                      "cluster-api-provider-foo"]
    values = plan.appreleases[1]["spec"]["values"]["global"]
    # the core takes the charts' cluster type from what the provider declares
    assert values["foo"] == {"region": "eu-1"} and values["cluster"]["type"] == "Foo"
    assert plan.wait_crds == ("kubeadmcontrolplanes.controlplane.cluster.x-k8s.io",
                              "fooclusters.infrastructure.cluster.x-k8s.io")


def test_hook_acp_manifest(foo: Provider) -> None:
    plan = foo_plan(foo)
    kinds = [o["kind"] for o in plan.manifest]
    assert kinds == ["Secret", "FooMachineTemplate", "FooCluster", "KubeadmControlPlane", "Cluster"]
    cluster = plan.manifest[-1]
    assert cluster["metadata"]["labels"] == {"cluster-type": "Foo", "is-global": "true",
                                             "foo.example/zone": "eu-1"}
    kcp = plan.manifest[3]
    assert kcp["spec"]["kubeadmConfigSpec"]["format"] == "cloud-config"
    assert kcp["spec"]["machineTemplate"]["infrastructureRef"]["kind"] == "FooMachineTemplate"


def test_naming_runs_on_provider_objects(foo: Provider) -> None:
    with pytest.raises(Exception) as err:
        foo_plan(foo, platform={"region": "eu-1", "token": {"env": "T"}, "templateName": "cp"})
    assert "FooMachineTemplate/cp metadata.name: 'cp' lacks the 'global-' prefix" in str(err.value)


def test_hook_acp_extra_resources(foo: Provider) -> None:
    plan = foo_plan(foo)
    text = plan.extra_resources["data"]["resources.yaml"]
    assert "foomachinetemplates.infrastructure.cluster.x-k8s.io" in text
    assert "method: etcdctl" in text


def test_hook_acp_installer_payload(foo: Provider) -> None:
    body = foo_plan(foo).installer_payload
    assert body["console"]["host"] == [] and "cluster" not in body


def test_hook_acp_dr_fields(foo: Provider) -> None:
    dr = {"role": "standby", "primaryVIP": "10.0.1.100", "standbyVIP": "10.0.0.100",
          "encryptionKey": {"env": "K"}}
    plan = foo_plan(foo, dr=dr)
    infra = next(o for o in plan.manifest if o["kind"] == "FooCluster")
    assert infra["spec"]["drRole"] == "standby"


def test_hook_acp_diagnose(foo: Provider) -> None:
    (d,) = foo.diagnose({"Machine": [{}, {}]})
    assert d.title == "Foo VM quota" and "2 machines" in d.detail


def test_hook_acp_runbook_steps(foo: Provider) -> None:
    """A provider without the hook adds nothing; one with it lands at its stage of RUNBOOK.md."""
    from acp_install.provider import RunbookStep

    spec = parse(FOO_SPEC, provider=foo).spec
    assert foo.runbook_steps(spec) == []

    class FooWithSteps(FooProvider):
        @hookimpl
        def acp_runbook_steps(self, spec: Any) -> list[RunbookStep]:
            return [RunbookStep("manifest", "Foo: wait for the hosts", "Run `foo hosts` until Ready.")]

    provider = Provider(FooWithSteps(), distribution="acp-install-foo", version="0.1")
    plan = build_plan(parse(FOO_SPEC, provider=provider))
    text = plan.files()["RUNBOOK.md"][0]
    assert text.index("kubectl apply -f global.yaml") < text.index("### Foo: wait for the hosts") \
        < text.index("## Step 6")


def test_hook_acp_preflight(foo: Provider) -> None:
    """Probes are the provider's to name and the core's to run; a bad one is the plugin's fault."""
    from acp_install.errors import PluginError
    from acp_install.provider import Probe

    spec = parse(FOO_SPEC, provider=foo).spec
    assert foo.preflight_probes(spec) == []

    class FooWithProbes(FooProvider):
        @hookimpl
        def acp_preflight(self, spec: Any) -> list[Probe]:
            return [Probe("foo-api", "platform.region", "foo.example.com", 443, "tls", "Foo API")]

    provider = Provider(FooWithProbes(), distribution="acp-install-foo", version="0.1")
    (probe,) = provider.preflight_probes(spec)
    assert (probe.name, probe.port, probe.expect) == ("foo-api", 443, "tls")

    class FooWithBadProbe(FooProvider):
        @hookimpl
        def acp_preflight(self, spec: Any) -> list[Probe]:
            return [Probe("foo-api", "platform.region", "foo.example.com", 0, "ping")]  # type: ignore[arg-type]

    bad = Provider(FooWithBadProbe(), distribution="acp-install-foo", version="0.1")
    with pytest.raises(PluginError, match="expect='ping', port=0"):
        bad.preflight_probes(spec)


def test_hook_acp_ready_gates(foo: Provider) -> None:
    spec = parse(FOO_SPEC, provider=foo).spec
    (blocked,) = foo.ready_gates(spec, "control-plane", {"FooHost": [{}]})
    assert blocked.severity == "error" and "not enough hosts" in blocked.message
    assert foo.ready_gates(spec, "control-plane", {"FooHost": [{}, {}, {}]}) == []
    assert foo.ready_gates(spec, "handoff", {}) == []


def test_hook_acp_spec_example(foo: Provider) -> None:
    example = foo.spec_example()
    assert example is not None and "region: eu-1" in example.platform_yaml


def test_entry_point_discovery_and_cli(foo_installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    provider = load_provider("foo")
    assert provider.distribution == "acp-install-foo"
    assert main(["providers", "-o", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    foo = next(p for p in listed["providers"] if p["id"] == "foo")
    assert foo["contract"] == "2" and "acp_manifest" in foo["hooks"]
    assert main(["init", "--provider", "foo"]) == 0
    assert "region: eu-1" in capsys.readouterr().out


def test_unknown_provider_lists_installed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(PluginError) as err:
        load_provider("nosuch")
    assert "installed providers: " in str(err.value) and "dcs" in str(err.value)
    assert main(["init", "--provider", "nosuch"]) == 5
    assert "unknown provider 'nosuch'" in capsys.readouterr().err


def test_disabled_provider_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACP_INSTALL_DISABLE_PLUGINS", "dcs")
    with pytest.raises(PluginError, match="unknown provider 'dcs'"):
        load_provider("dcs")


def test_broken_plugin_warns_unless_selected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    make_dist(site, "broken", "broken_provider:plugin", "raise ImportError('no module foo_sdk')\n")
    monkeypatch.syspath_prepend(str(site))
    sys.modules.pop("broken_provider", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded, broken = load_all()
    assert [b.distribution for b in broken] == ["acp-install-broken"]
    assert any("acp-install-broken" in str(w.message) for w in caught
               if issubclass(w.category, PluginWarning))
    assert "dcs" in {p.id for p in loaded}
    assert main(["init", "--provider", "broken"]) == 5
    err = capsys.readouterr().err
    assert "acp-install-broken" in err and "failed to load" in err and "Traceback" not in err


def test_contract_mismatch_refused() -> None:
    class Old(FooProvider):
        contract = "0"

    with pytest.raises(PluginError, match="speaks hook contract 0"):
        Provider(Old(), distribution="acp-install-old")


def test_missing_mandatory_hook_refused() -> None:
    class Partial:
        @hookimpl
        def acp_provider_info(self) -> Any:
            return FooProvider().acp_provider_info()

    with pytest.raises(PluginError, match="mandatory hook"):
        Provider(Partial(), distribution="acp-install-partial")


def test_misspelled_hook_refused() -> None:
    class Typo(FooProvider):
        @hookimpl
        def acp_manifests(self, spec: Any) -> None:  # not a hook of the contract
            return None

    with pytest.raises(PluginError, match="does not match the hook contract") as err:
        Provider(Typo(), distribution="acp-install-typo")
    assert "unknown hook 'acp_manifests'; did you mean 'acp_manifest'?" in err.value.message
    assert "object at 0x" not in err.value.message  # no Python repr in a user's message


def test_import_entry_etcd_key_base() -> None:
    from acp_install.provider import ImportEntry

    entry = ImportEntry.etcd("hcsclusters.infrastructure.cluster.x-k8s.io", ["global"])
    assert entry.as_dict() == {
        "resource": "hcsclusters.infrastructure.cluster.x-k8s.io", "names": ["global"],
        "etcdKeyBase": "/registry/infrastructure.cluster.x-k8s.io/hcsclusters/cpaas-system/",
        "method": "etcdctl"}
    assert ImportEntry.etcd("machines.cluster.x-k8s.io").names is None
