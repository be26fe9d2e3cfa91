"""The provider conformance suite: does a provider honour the hook contract?

A provider author subclasses :class:`ProviderConformance` in their own test suite::

    # tests/test_conformance.py of acp-install-foo
    from acp_install.testing.conformance import ProviderConformance

    class TestFooConformance(ProviderConformance):
        provider_id = "foo"

and pytest collects the checks below, run against the provider's own ``init`` example with a
unique canary behind every secret reference (``{env: ...}`` and ``{file: ...}``): the contract
loads, the example validates, the plan honours the naming convention, is deterministic and
CRD-valid, the installer body has the procedure's shape, and a full install against the sandbox
completes with exactly one installer request. No canary (nor its base64) may appear in any byte
of the plan, the rendered files (unless secrets are asked for, then only in 0600 files), the
findings, the engine's events, its work directory, or the CLI's output.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar

import pytest

from .. import hookspecs, naming
from ..plan import InstallPlan, build_plan, write_plan
from ..plugins import Provider, load_provider
from ..spec import checks
from ..spec.example import example_spec
from ..spec.load import LoadedSpec, load_spec
from ..yamlio import resolve_secrets
from .canaries import Canaries, plant


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
    def planted(self, provider: Provider, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Canaries:
        """The example spec with a unique canary behind every secret reference, env or file."""
        return plant(provider, example_spec(provider), tmp_path / "canaries", monkeypatch)

    @pytest.fixture
    def canaries(self, planted: Canaries) -> dict[str, str]:
        """Reference (``env $NAME`` / ``file PATH``) -> its canary value."""
        return dict(planted.values)

    @pytest.fixture
    def loaded(self, provider: Provider, planted: Canaries) -> LoadedSpec:
        return load_spec(planted.spec_path, provider=provider)

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

    # --- secret hygiene: no canary in any byte the product produces ----------------------------

    def test_secrets_stay_out_of_the_plan(self, plan: InstallPlan, planted: Canaries) -> None:
        for name, (content, _secret) in plan.files().items():
            planted.assert_absent(content, f"the plan's {name}")
        planted.assert_absent(repr(plan), "the plan's repr")

    def test_secrets_stay_out_of_rendered_files(self, plan: InstallPlan, planted: Canaries,
                                                tmp_path: Path) -> None:
        write_plan(plan, tmp_path / "plain")
        planted.assert_tree_absent(tmp_path / "plain", "render without --include-secrets")
        for path in write_plan(plan, tmp_path / "secret", include_secrets=True):
            if planted.leaks(path.read_bytes()):
                assert (os.stat(path).st_mode & 0o077) == 0, f"{path.name} holds a secret but is not 0600"

    def test_secrets_stay_out_of_findings(self, loaded: LoadedSpec, provider: Provider,
                                          planted: Canaries) -> None:
        """Warnings of the load and every finding of the core's and the provider's checks, in
        every form they are shown (the CLI's text, the JSON event, repr)."""
        findings = [*loaded.warnings, *checks.check(loaded.spec), *provider.validate(loaded.spec)]
        for f in findings:
            shown = [f.format(loaded.source), repr(f), json.dumps(
                {"path": f.path, "message": f.message, "fix": f.fix}, default=str)]
            planted.assert_absent("\n".join(shown), f"finding {f.path or '<spec>'}")

    def test_installer_payload_shape(self, plan: InstallPlan, loaded: LoadedSpec) -> None:
        body = json.loads(plan.files()["installer-config.json"][0])
        spec = loaded.spec
        assert set(body) >= {"basic", "registry", "console", "product", "deployMode", "hostIP"}
        assert body["console"]["globalHost"] == spec.platformHost
        assert spec.platformHost not in body["console"]["host"] or spec.platformHost == spec.controlPlaneVIP
        assert {"base", "acp"} <= set(body["product"]) and body["hostIP"] == spec.hostIP

    def test_full_install_against_the_sandbox(self, plan: InstallPlan, provider: Provider,
                                              planted: Canaries, tmp_path: Path) -> None:
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
            self.assert_install_kept_secrets(planted, events, tmp_path / "work")
            # the canaries were the real secrets: the installer received them (not vacuous)
            assert planted.leaks(json.dumps(sandbox.recorder.installer_payloads, default=str))
        finally:
            sandbox.stop()

    def test_cli_sandbox_install_keeps_secrets(self, planted: Canaries, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
        """``acp-install install --sandbox -f SPEC -o json``: every line it prints, every file
        of its work directory."""
        from ..cli.main import main

        unsupported = set(self.sandbox_options) - {"scenario", "speed"}
        if unsupported:
            pytest.skip(f"sandbox_options {sorted(unsupported)} have no CLI flag")
        argv = ["install", "--sandbox", "-f", str(planted.spec_path), "-o", "json",
                "--workdir", str(tmp_path / "work")]
        if self.crds_dir is not None:
            argv += ["--crds", str(self.crds_dir)]
        for option in ("scenario", "speed"):
            if option in self.sandbox_options:
                argv += [f"--{option}", str(self.sandbox_options[option])]
        rc = main(argv)
        out = capsys.readouterr()
        planted.assert_absent(out.out, "the output of install -o json")
        planted.assert_absent(out.err, "the stderr of install")
        planted.assert_tree_absent(tmp_path / "work", "the install's work directory")
        assert rc == 0, out.err
        assert '"complete": true' in out.out

    @staticmethod
    def assert_install_kept_secrets(planted: Canaries, events: list[Any], workdir: Path) -> None:
        """No canary in an engine event (as the JSON ``-o json`` streams, and as repr) nor in
        any file of the work directory (state file included)."""
        from ..engine import to_dict

        for event in events:
            planted.assert_absent(json.dumps(to_dict(event), sort_keys=True, default=str),
                                  f"engine event {type(event).__name__} (JSON)")
            planted.assert_absent(repr(event), f"engine event {type(event).__name__} (repr)")
        planted.assert_tree_absent(workdir, "the engine's work directory")
