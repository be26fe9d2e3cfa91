"""The provider conformance suite: does a provider honour the hook contract?

A provider author subclasses :class:`ProviderConformance` in their own test suite::

    # tests/test_conformance.py of acp-install-foo
    from acp_install.testing.conformance import ProviderConformance

    class TestFooConformance(ProviderConformance):
        provider_id = "foo"

and pytest collects the checks below, run against the provider's own ``init`` example with
canary values in every ``{env: ...}`` secret reference: the contract loads, the example
validates, the plan honours the naming convention, is deterministic and CRD-valid, secrets stay
out of every rendered file unless asked for, the installer body has the procedure's shape, and a
full install against the sandbox completes with exactly one installer request.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from .. import hookspecs, naming
from ..plan import InstallPlan, build_plan, write_plan
from ..plugins import Provider, load_provider
from ..secrets import spec_refs
from ..spec.example import example_spec
from ..spec.load import LoadedSpec, load_spec
from ..yamlio import resolve_secrets


def env_refs(value: Any) -> Iterator[str]:
    """Names of every ``{env: NAME}`` secret reference inside a spec."""
    return (ref.env for ref in spec_refs(value) if ref.env)


class ProviderConformance:
    """Base class of the conformance checks; set ``provider_id`` in a subclass."""

    provider_id: ClassVar[str] = ""
    #: CRD YAML directory overriding, by CRD name, the schemas installed distributions ship
    #: (rendered objects are validated against the schema of their kind either way).
    crds_dir: ClassVar[Path | None] = None
    #: Keyword arguments for the sandbox (``scenario``, ``speed``...).
    sandbox_options: ClassVar[dict[str, Any]] = {}

    @pytest.fixture
    def provider(self) -> Provider:
        if not self.provider_id:
            pytest.fail("set provider_id on the ProviderConformance subclass")
        return load_provider(self.provider_id)

    @pytest.fixture
    def canaries(self, provider: Provider, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
        """A unique canary value for every env secret the example references."""
        probe = tmp_path / "probe.yaml"
        probe.write_text(example_spec(provider))
        for name in set(env_refs(load_spec(probe, provider=provider).spec)):
            monkeypatch.delenv(name, raising=False)
        values: dict[str, str] = {}
        loaded = load_spec(probe, provider=provider)
        for name in sorted(set(env_refs(loaded.spec))):
            values[name] = f"canary-{name.lower()}-{secrets.token_hex(6)}"
            monkeypatch.setenv(name, values[name])
        return values

    @pytest.fixture
    def loaded(self, provider: Provider, canaries: dict[str, str], tmp_path: Path) -> LoadedSpec:
        path = tmp_path / "spec.yaml"
        path.write_text(example_spec(provider))
        return load_spec(path, provider=provider)

    @pytest.fixture
    def plan(self, loaded: LoadedSpec) -> InstallPlan:
        return build_plan(loaded)

    # --- the checks -----------------------------------------------------------------------------

    def test_contract(self, provider: Provider) -> None:
        assert provider.info.id == self.provider_id
        assert provider.info.contract.split(".")[0] == hookspecs.CONTRACT_VERSION.split(".")[0]
        implemented = provider.hooks_implemented()
        for hook in hookspecs.MANDATORY:
            assert hook in implemented, f"mandatory hook {hook} not implemented"
        assert provider.info.bootstrap_format in (None, "ignition", "cloud-config")

    def test_example_validates_without_errors(self, loaded: LoadedSpec) -> None:
        assert all(f.severity == "warning" for f in loaded.warnings)

    def test_naming_convention(self, plan: InstallPlan) -> None:
        assert naming.check(plan.manifest, extra_groups=plan.provider.owned_api_groups) == []
        clusters = [o for o in plan.manifest if o["kind"] in ("Cluster", plan.provider.infra_cluster_kind)]
        assert sorted(o["metadata"]["name"] for o in clusters) == ["global", "global"]

    def test_plan_is_deterministic(self, loaded: LoadedSpec) -> None:
        assert build_plan(loaded).files() == build_plan(loaded).files()

    def test_objects_validate_against_crds(self, plan: InstallPlan) -> None:
        """Every custom resource of the plan has a declared CRD and validates against it."""
        from acp_install_sandbox.catalog import Catalog
        from acp_install_sandbox.declarations import installed
        from acp_install_sandbox.kinds import BUILTIN

        registry = Catalog(installed(), self.crds_dir).registry()
        builtin = {(rt.group, rt.kind) for rt in BUILTIN}
        for obj in resolve_secrets(list(plan.manifest), reveal=False):
            if (obj["apiVersion"].rpartition("/")[0], obj["kind"]) in builtin:
                continue
            assert registry.lookup(obj["apiVersion"], obj["kind"]) is not None, (
                f"{obj['apiVersion']} {obj['kind']}: no installed distribution declares its CRD "
                "(acp_install_sandbox.providers entry point)")
            errors = registry.validate(obj, unknown="error")
            assert not errors, f"{obj['kind']}/{obj['metadata']['name']}: {errors}"

    def test_secrets_stay_out_of_rendered_files(self, plan: InstallPlan, canaries: dict[str, str],
                                                tmp_path: Path) -> None:
        for path in write_plan(plan, tmp_path / "plain"):
            text = path.read_text()
            for value in canaries.values():
                assert value not in text, f"secret leaked into {path.name}"
        for path in write_plan(plan, tmp_path / "secret", include_secrets=True):
            text = path.read_text()
            if any(v in text for v in canaries.values()):
                assert (os.stat(path).st_mode & 0o077) == 0, f"{path.name} holds a secret but is not 0600"

    def test_installer_payload_shape(self, plan: InstallPlan, loaded: LoadedSpec) -> None:
        body = json.loads(plan.files()["installer-config.json"][0])
        spec = loaded.spec
        assert set(body) >= {"basic", "registry", "console", "product", "deployMode", "hostIP"}
        assert body["console"]["globalHost"] == spec.platformHost
        assert spec.platformHost not in body["console"]["host"] or spec.platformHost == spec.controlPlaneVIP
        assert {"base", "acp"} <= set(body["product"]) and body["hostIP"] == spec.hostIP

    def test_full_install_against_the_sandbox(self, plan: InstallPlan, provider: Provider,
                                              canaries: dict[str, str], tmp_path: Path) -> None:
        from acp_install_sandbox.pytest_plugin import start_sandbox

        from ..engine import Engine, Timeouts

        options = {"crds_dir": self.crds_dir, **self.sandbox_options}
        sandbox = start_sandbox(**options)
        try:
            engine = Engine(plan, kubeconfig=sandbox.kubeconfig_path, workdir=tmp_path / "work",
                            provider=provider, timeouts=Timeouts(scale=0.05),
                            poll_interval=0.1, resync=2.0)
            events: list[Any] = []
            engine.subscribe(events.append)
            result = engine.run()
            assert result.complete
            assert len(sandbox.recorder.installer_payloads) == 1
            text = json.dumps([repr(e) for e in events])
            for value in canaries.values():
                assert value not in text, "a secret reached an engine event"
        finally:
            sandbox.stop()
