"""The provider conformance suite: does a provider honour the hook contract?

A provider author subclasses :class:`ProviderConformance` in their own test suite::

    # tests/test_conformance.py of acp-install-foo
    from acp_install.testing.conformance import ProviderConformance

    class TestFooConformance(ProviderConformance):
        provider_id = "foo"

and pytest collects the checks below, run against the provider's *sample spec* (its own ``init``
example unless :meth:`ProviderConformance.sample_spec` changes it) with a unique canary behind
every secret reference (``{env: ...}`` and ``{file: ...}``): the contract loads, the example
validates, the plan honours the naming convention, is deterministic (in one process and across
processes with different hash seeds) and CRD-valid, the rendered files equal the reviewed copies
in ``golden_dir``, the installer body has the procedure's shape, and a full install against the
sandbox completes with exactly one installer request. No canary (nor its base64) may appear in
any byte of the plan, the rendered files (unless secrets are asked for, then only in 0600
files), the findings, the engine's events, its work directory, or the CLI's output.

The module is a registered pytest plugin (entry point ``pytest11`` of ``acp-install``, see
:mod:`acp_install.testing`), so its ``assert`` statements are rewritten and a failing check
shows the values it compared, with no conftest line.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from .. import hookspecs, naming
from ..plan import InstallPlan, build_plan, write_plan
from ..plugins import Provider, load_provider
from ..spec import checks
from ..spec.example import example_spec
from ..spec.load import LoadedSpec, load_spec
from ..yamlio import dump, load_all, resolve_secrets
from .canaries import Canaries, plant

#: Set (to anything but ``0``) to rewrite the golden folders instead of comparing with them.
UPDATE_GOLDEN = "UPDATE_GOLDEN"
#: Two hash seeds for the cross-process determinism check: ``set``/``dict`` iteration over
#: strings changes between them, so output that depends on it differs.
HASH_SEEDS = ("1", "2")



def rendered_files(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` by its relative POSIX path, in sorted order."""
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def check_golden(files: Mapping[str, bytes], folder: Path) -> None:
    """Assert ``files`` (relative path -> bytes) equal the reviewed copies in ``folder``.

    With ``UPDATE_GOLDEN=1`` in the environment the folder is rewritten instead (files that are
    no longer rendered are removed), so an intended change is one run and a reviewed diff.
    """
    if os.environ.get(UPDATE_GOLDEN, "0") not in ("", "0"):
        folder.mkdir(parents=True, exist_ok=True)
        for stale in rendered_files(folder).keys() - files.keys():
            (folder / stale).unlink()
        for name, data in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        return
    hint = f"review the change, then rewrite {folder} with {UPDATE_GOLDEN}=1 pytest"
    assert folder.is_dir(), f"golden folder {folder} is missing: {hint}"
    golden = rendered_files(folder)
    assert sorted(files) == sorted(golden), f"the rendered files differ from the golden ones: {hint}"
    for name, data in files.items():
        assert data.decode() == golden[name].decode(), f"{name} differs from {folder / name}: {hint}"


def render_in_subprocess(spec: Path, out: Path, hash_seed: str) -> dict[str, bytes]:
    """``acp-install render`` in a fresh interpreter with ``PYTHONHASHSEED=hash_seed``."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    proc = subprocess.run([sys.executable, "-m", "acp_install.cli.main", "render", "-f", str(spec),
                           "-o", str(out)], env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"render with PYTHONHASHSEED={hash_seed} failed:\n{proc.stderr}"
    return rendered_files(out)


class ProviderConformance:
    """Base class of the conformance checks; set ``provider_id`` in a subclass."""

    provider_id: ClassVar[str] = ""
    #: CRD YAML directory overriding, by CRD name, the schemas installed distributions ship
    #: (rendered objects are validated against the schema of their kind either way).
    crds_dir: ClassVar[Path | None] = None
    #: Keyword arguments for the sandbox (``scenario``, ``speed``...).
    sandbox_options: ClassVar[dict[str, Any]] = {}
    #: Folder of the reviewed rendered files of the sample spec (``render`` output); ``None``
    #: skips the golden check. ``UPDATE_GOLDEN=1 pytest`` writes it.
    golden_dir: ClassVar[Path | None] = None

    def sample_spec(self, example: dict[str, Any]) -> dict[str, Any]:
        """The spec every check runs on, given the ``init`` example as data (a copy).

        Override to cover more than the example shows (worker groups, optional fields); keep
        secrets as references (``{env: NAME}`` or ``{file: PATH}``) so the canary checks reach them.
        """
        return example

    @pytest.fixture
    def provider(self) -> Provider:
        if not self.provider_id:
            pytest.fail("set provider_id on the ProviderConformance subclass")
        return load_provider(self.provider_id)

    @pytest.fixture
    def sample_text(self, provider: Provider) -> str:
        """The sample spec as YAML: the ``init`` text itself unless :meth:`sample_spec` is overridden."""
        text = example_spec(provider)
        if type(self).sample_spec is ProviderConformance.sample_spec:
            return text
        return dump(self.sample_spec(copy.deepcopy(load_all(text)[0][0])))

    @pytest.fixture
    def planted(self, provider: Provider, sample_text: str, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Canaries:
        """The sample spec with a unique canary behind every secret reference, env or file."""
        return plant(provider, sample_text, tmp_path / "canaries", monkeypatch)

    @pytest.fixture
    def canaries(self, planted: Canaries) -> dict[str, str]:
        """Reference (``env $NAME`` / ``file PATH``) -> its canary value."""
        return dict(planted.values)

    @pytest.fixture
    def sample_path(self, planted: Canaries) -> Path:
        return planted.spec_path

    @pytest.fixture
    def loaded(self, provider: Provider, sample_path: Path) -> LoadedSpec:
        return load_spec(sample_path, provider=provider)

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

    def test_example_validates_without_errors(self, provider: Provider, loaded: LoadedSpec,
                                              tmp_path: Path) -> None:
        """The ``init`` example as users get it, and the sample spec built from it."""
        example = tmp_path / "example.yaml"
        example.write_text(example_spec(provider))
        for spec in (load_spec(example, provider=provider), loaded):
            assert all(f.severity == "warning" for f in spec.warnings)

    def test_naming_convention(self, plan: InstallPlan) -> None:
        assert naming.check(plan.manifest, extra_groups=plan.provider.owned_api_groups) == []
        clusters = [o for o in plan.manifest if o["kind"] in ("Cluster", plan.provider.infra_cluster_kind)]
        assert sorted(o["metadata"]["name"] for o in clusters) == ["global", "global"]

    def test_plan_is_deterministic(self, loaded: LoadedSpec) -> None:
        assert build_plan(loaded).files() == build_plan(loaded).files()

    def test_render_is_deterministic_across_processes(self, sample_path: Path, tmp_path: Path) -> None:
        """Same spec, same bytes, whatever the process: ``render`` under two hash seeds."""
        a, b = (render_in_subprocess(sample_path, tmp_path / f"seed-{seed}", seed) for seed in HASH_SEEDS)
        assert a, "render wrote no file"
        assert sorted(a) == sorted(b)
        for name in a:
            assert a[name].decode() == b[name].decode(), f"{name} depends on PYTHONHASHSEED"

    def test_rendered_files_match_golden(self, plan: InstallPlan, tmp_path: Path) -> None:
        if self.golden_dir is None:
            pytest.skip("golden_dir is not set: no reviewed copy of the rendered files to compare with")
        write_plan(plan, tmp_path / "out")
        check_golden(rendered_files(tmp_path / "out"), self.golden_dir)

    def test_objects_validate_against_crds(self, plan: InstallPlan) -> None:
        """Every custom resource of the plan has a declared CRD and validates against it."""
        from acp_install_sandbox import BUILTIN_KINDS, installed_registry

        registry = installed_registry(self.crds_dir)
        builtin = {(rt.group, rt.kind) for rt in BUILTIN_KINDS}
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
