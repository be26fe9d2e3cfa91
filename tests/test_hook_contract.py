"""The hook contract is checked where results are received.

A table of broken third-party providers, each installed as a distribution would be (an entry
point in a ``*.dist-info``), driven through the CLI: the exit code is the documented one, the
message names the distribution and version, the hook and what was expected, no traceback is
shown and nothing is written. Then: one broken distribution never hides or breaks another,
secret values in a provider's findings never reach the output, and a hook failing in the middle
of an install marks its phase failed and a re-run resumes.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from acp_install import Provider
from acp_install.cli.main import main
from acp_install.errors import PluginError
from acp_install.hookspecs import READY_GATES
from acp_install.plugins import EXPECTED, iter_hook_names, load_provider
from acp_install.provider import Finding, hookimpl
from acp_install.yamlio import dump

from fakeprovider import FOO_SPEC, FooProvider

TOKEN = "canary-foo-token-3b9d1e"
ADMIN = "canary-foo-admin-8c2f7a"


def make_dist(site: Path, dist: str, entry_name: str, value: str,
              module: tuple[str, str] | None = None) -> None:
    """An installed distribution ``dist`` 0.1 registering ``entry_name = value``."""
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[acp_install.providers]\n{entry_name} = {value}\n")
    if module is not None:
        name, source = module
        (site / f"{name}.py").write_text(textwrap.dedent(source))
        sys.modules.pop(name, None)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    monkeypatch.setenv("FOO_TOKEN", TOKEN)
    monkeypatch.setenv("ADMIN_PW", ADMIN)
    monkeypatch.setenv("FOO_KEY", "Y2FuYXJ5LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGVzISE=")  # 32 bytes
    return path


def broken_foo(site: Path, module: str, body: str) -> None:
    """Install ``acp-install-foo`` 0.1 whose plugin is FooProvider with ``body`` overriding."""
    source = ("from typing import Any\n"
              "from fakeprovider import FooProvider\n"
              "from acp_install.provider import *\n\n"
              "class Broken(FooProvider):\n" + textwrap.indent(textwrap.dedent(body), "    ")
              + "\nplugin = Broken()\n")
    make_dist(site, "acp-install-foo", "foo", f"{module}:plugin", (module, source))


def spec_file(tmp_path: Path, **changes: Any) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(dump({**FOO_SPEC, **changes}))
    return path


DR = {"role": "standby", "primaryVIP": "10.0.1.100", "standbyVIP": "10.0.0.100",
      "encryptionKey": {"env": "FOO_KEY"}}

#: (case, hook, the overriding implementation, what the message must say)
CASES: list[tuple[str, str, str, str]] = [
    ("info-wrong-type", "acp_provider_info", """
        @hookimpl
        def acp_provider_info(self) -> Any:
            return {"id": "foo"}
     """, "returned a dict, expected one ProviderInfo record"),
    ("info-raises", "acp_provider_info", """
        @hookimpl
        def acp_provider_info(self) -> Any:
            raise RuntimeError("no config file")
     """, "raised RuntimeError: no config file (expected one ProviderInfo record)"),
    ("info-platform-not-attrs", "acp_provider_info", """
        @hookimpl
        def acp_provider_info(self) -> Any:
            import attrs
            return attrs.evolve(super().acp_provider_info(), platform_type=dict)
     """, "expected an attrs class"),
    ("validate-single-record", "acp_validate", """
        @hookimpl
        def acp_validate(self, spec: Any) -> Any:
            return Finding("warning", "platform.region", "looks odd")
     """, "returned a Finding, expected an iterable (list, tuple or generator) of Finding records"),
    ("validate-none", "acp_validate", """
        @hookimpl
        def acp_validate(self, spec: Any) -> Any:
            return None
     """, "returned None, expected an iterable (list, tuple or generator) of Finding records"),
    ("validate-raises", "acp_validate", """
        @hookimpl
        def acp_validate(self, spec: Any) -> Any:
            raise KeyError("region")
     """, "raised KeyError: 'region' (expected an iterable"),
    ("validate-generator-raises", "acp_validate", """
        @hookimpl
        def acp_validate(self, spec: Any) -> Any:
            yield Finding("warning", "platform.region", "fine")
            raise ZeroDivisionError("division by zero")
     """, "raised ZeroDivisionError: division by zero"),
    ("packages-item-dict", "acp_packages", """
        @hookimpl
        def acp_packages(self, spec: Any) -> Any:
            return [{"release_name": "cluster-api-provider-foo"}]
     """, "returned an iterable whose item 0 is a dict, expected an iterable (list, tuple or "
          "generator) of ProviderPackage records"),
    ("manifest-single-record", "acp_manifest", """
        @hookimpl
        def acp_manifest(self, spec: Any) -> Any:
            return next(iter(super().acp_manifest(spec)))
     """, "returned a ProviderManifest, expected an iterable"),
    ("extra-resources-str", "acp_extra_resources", """
        @hookimpl
        def acp_extra_resources(self, spec: Any, objects: Any) -> Any:
            return "secrets"
     """, "returned a str, expected an iterable (list, tuple or generator) of ImportEntry records"),
    ("payload-dict", "acp_installer_payload", """
        @hookimpl
        def acp_installer_payload(self, spec: Any) -> Any:
            return {"console_hosts": []}
     """, "returned a dict, expected one InstallerPayloadPart record"),
    ("payload-none", "acp_installer_payload", """
        @hookimpl
        def acp_installer_payload(self, spec: Any) -> Any:
            return None
     """, "returned None, expected one InstallerPayloadPart record"),
    ("dr-single-record", "acp_dr_fields", """
        @hookimpl
        def acp_dr_fields(self, spec: Any, role: str) -> Any:
            return DRContribution()
     """, "returned a DRContribution, expected an iterable"),
]


@pytest.mark.parametrize(("case", "hook", "body", "expected"), CASES, ids=[c[0] for c in CASES])
def test_broken_provider_is_a_plugin_error(case: str, hook: str, body: str, expected: str,
                                           site: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    broken_foo(site, f"broken_{case.replace('-', '_')}", body)
    out = tmp_path / "out"
    spec = spec_file(tmp_path, **({"dr": DR} if hook == "acp_dr_fields" else {}))
    assert main(["render", "-f", str(spec), "-o", str(out)]) == PluginError.exit_code
    captured = capsys.readouterr()
    err = captured.err
    assert "acp-install-foo 0.1" in err and f"hook {hook} " in err, err
    assert expected in err, err
    assert "Traceback" not in err + captured.out
    assert not out.exists(), "nothing may be written when a hook breaks the contract"


def test_spec_example_of_wrong_type(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken_foo(site, "broken_example", """
        @hookimpl
        def acp_spec_example(self) -> Any:
            return "platform:\\n  region: eu-1\\n"
    """)
    assert main(["init", "--provider", "foo"]) == PluginError.exit_code
    err = capsys.readouterr().err
    assert ("acp-install-foo 0.1: hook acp_spec_example returned a str, expected one "
            "SpecExample record") in err and "Traceback" not in err


class Mid(FooProvider):
    """Hooks the engine calls during phases, broken in the ways a table row names."""

    def __init__(self, diagnose: Any, gates: Any) -> None:
        self._diagnose, self._gates = diagnose, gates

    @hookimpl
    def acp_diagnose(self, snapshot: Any) -> Any:
        return self._diagnose(snapshot)

    @hookimpl
    def acp_ready_gates(self, spec: Any, gate: str, snapshot: Any) -> Any:
        return self._gates(gate)


def _raise(*_: Any) -> Any:
    raise OSError("connection refused")


@pytest.mark.parametrize(("hook", "broken", "expected"), [
    ("acp_diagnose", lambda s: {"title": "x"}, "returned a dict, expected an iterable"),
    ("acp_diagnose", _raise, "raised OSError: connection refused"),
    ("acp_ready_gates", lambda g: None, "returned None, expected an iterable (list, tuple or "
                                        "generator) of Finding records"),
    ("acp_ready_gates", lambda g: ["blocked"], "item 0 is a str, expected an iterable"),
])
def test_engine_time_hooks_are_checked(hook: str, broken: Callable[..., Any],
                                       expected: str) -> None:
    ok: Callable[..., Any] = lambda *_: []  # noqa: E731
    plugin = Mid(broken, ok) if hook == "acp_diagnose" else Mid(ok, broken)
    provider = Provider(plugin, distribution="acp-install-mid", version="2.0")
    spec = load_spec_data(provider)
    with pytest.raises(PluginError) as err:
        if hook == "acp_diagnose":
            provider.diagnose({"Machine": []})
        else:
            provider.ready_gates(spec, "control-plane", {})
    assert f"acp-install-mid 2.0: hook {hook} " in err.value.message and expected in err.value.message
    assert err.value.distribution == "acp-install-mid"


def load_spec_data(provider: Provider) -> Any:
    from acp_install import parse

    return parse(FOO_SPEC, provider=provider).spec


def test_gates_are_typed_and_unknown_ones_refused() -> None:
    provider = Provider(FooProvider(), distribution="acp-install-foo", version="0.1")
    assert READY_GATES == ("packages", "control-plane", "handoff")
    with pytest.raises(ValueError, match="unknown gate 'contrl-plane'"):
        provider.ready_gates(load_spec_data(provider), "contrl-plane", {})  # type: ignore[arg-type]


def test_every_collecting_hook_is_declared_iterable() -> None:
    """Annotation and pluggy kind agree: collecting ⇔ ``Iterable[...]``, firstresult ⇔ one."""
    import acp_install.hookspecs as specs

    for name in iter_hook_names():
        firstresult = getattr(specs, name).acp_install_spec["firstresult"]
        assert EXPECTED[name].many is not firstresult, name


# -- one broken provider never breaks another ------------------------------------------------


@pytest.fixture
def zoo(site: Path) -> Path:
    """A healthy foo beside five broken distributions."""
    make_dist(site, "acp-install-foo", "foo", "fakeprovider:plugin")
    make_dist(site, "acp-install-gone", "gone", "no_such_module_3f1a:plugin")
    make_dist(site, "acp-install-typo", "typo", "not a valid entry point!")
    make_dist(site, "acp-install-old", "old", "old_provider:plugin", ("old_provider", """
        from fakeprovider import FooProvider

        class Old(FooProvider):
            contract = "0"

        plugin = Old()
    """))
    make_dist(site, "acp-install-boom", "boom", "boom_provider:plugin", ("boom_provider", """
        from acp_install.provider import hookimpl
        from fakeprovider import FooProvider

        class Boom(FooProvider):
            @hookimpl
            def acp_provider_info(self):
                raise RuntimeError("boom at load")

        plugin = Boom()
    """))
    make_dist(site, "acp-install-twin-a", "twin", "fakeprovider:plugin")
    make_dist(site, "acp-install-twin-b", "twin", "fakeprovider:plugin")
    return site


BROKEN = {
    "gone": "failed to load",
    "typo": "failed to load",
    "old": "speaks hook contract 0",
    "boom": "hook acp_provider_info raised RuntimeError: boom at load",
    "twin": "registered by several distributions",
}


def test_providers_lists_broken_ones_with_their_error(zoo: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["providers", "-o", "json"]) == 0
    captured = capsys.readouterr()
    listed = {p["id"]: p for p in json.loads(captured.out)["providers"]}
    assert listed["foo"]["contract"] == "2" and "error" not in listed["foo"]
    assert {"dcs", "vsphere", "hcs", "baremetal"} <= set(listed)
    for pid, reason in BROKEN.items():
        assert reason in listed[pid]["error"], (pid, listed[pid])
    assert "Traceback" not in captured.out + captured.err

    assert main(["providers"]) == 0
    text = capsys.readouterr().out
    assert "foo        Foo Cloud" in text
    for pid, reason in BROKEN.items():
        line = next(line for line in text.splitlines() if line.startswith(f"{pid} "))
        assert "BROKEN" in line and reason in line, line


def test_a_healthy_provider_runs_beside_broken_ones(zoo: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["render", "-f", str(spec_file(tmp_path)), "-o", str(out)]) == 0
    assert (out / "global.yaml").is_file()
    assert load_provider("dcs").id == "dcs"
    for pid, reason in BROKEN.items():
        with pytest.raises(PluginError, match=reason):
            load_provider(pid)
    capsys.readouterr()


def test_entry_point_name_and_provider_id_must_agree(site: Path) -> None:
    make_dist(site, "acp-install-bar", "bar", "fakeprovider:plugin")
    with pytest.raises(PluginError, match="returned id 'foo', expected 'bar'"):
        load_provider("bar")


# -- finding text never carries a secret -----------------------------------------------------


LEAKY = """
    @hookimpl
    def acp_validate(self, spec: Any) -> Any:
        token = spec.platform.token.reveal().get()
        yield Finding("{severity}", "platform.token", f"login with {{token}} failed",
                      fix=f"check that {{token}} is the current token")
"""


@pytest.mark.parametrize("severity", ["warning", "error"])
def test_secret_in_a_finding_never_reaches_output(severity: str, site: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    broken_foo(site, f"leaky_{severity}", LEAKY.format(severity=severity))
    spec = str(spec_file(tmp_path))
    codes = [main(["validate", "-f", spec]),
             main(["render", "-f", spec, "-o", str(tmp_path / "out")]),
             # -o json: the spec's findings are JSON lines; no cluster is reached
             main(["install", "-f", spec, "--kubeconfig", str(tmp_path / "none"), "--workdir",
                   str(tmp_path / "w"), "-o", "json"])]
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert TOKEN not in text and "login with <redacted> failed" in text
    assert "check that <redacted> is the current token" in text
    if severity == "error":
        assert codes == [3, 3, 3]
    else:
        assert codes[:2] == [0, 0]
        events = [json.loads(line) for line in captured.out.splitlines() if line.startswith("{")]
        finding = next(e for e in events if e.get("path") == "platform.token")
        assert finding["event"] == "finding" and finding["message"] == "login with <redacted> failed"
    for path in [*(tmp_path / "out").rglob("*"), *(tmp_path / "w").rglob("*")]:
        assert not path.is_file() or TOKEN not in path.read_text()


def test_hook_exception_text_is_redacted(site: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    broken_foo(site, "leaky_raise", """
        @hookimpl
        def acp_packages(self, spec: Any) -> Any:
            raise ValueError("bad token " + spec.platform.token.reveal().get())
    """)
    assert main(["render", "-f", str(spec_file(tmp_path)), "-o", str(tmp_path / "o")]) == 5
    err = capsys.readouterr().err
    assert TOKEN not in err and "raised ValueError: bad token <redacted>" in err


def test_findings_without_secret_values_are_unchanged(site: Path) -> None:
    provider = Provider(FooProvider(), distribution="acp-install-foo", version="0.1")
    spec = load_spec_data(provider)
    assert provider.validate(attrs.evolve(spec, platform=attrs.evolve(
        spec.platform, region="nowhere"))) == [
        Finding("error", "platform.region", "unknown region", fix="use eu-1")]


# -- a hook failing mid-install: phase failed, resumable -------------------------------------


@pytest.fixture
def flaky_dcs() -> Iterator[Any]:
    """The DCS provider plus a control-plane gate whose oracle fails until told otherwise."""
    import acp_install_dcs.plugin as dcs

    class FlakyDcs:
        broken = True

        @hookimpl
        def acp_ready_gates(self, gate: str) -> Any:
            if self.broken and gate == "control-plane":
                raise ConnectionError("inventory service unreachable")
            return []

    for name in dir(dcs):
        if name.startswith("acp_") and callable(getattr(dcs, name)):
            setattr(FlakyDcs, name, staticmethod(getattr(dcs, name)))
    yield FlakyDcs()


def test_hook_raising_mid_install_fails_the_phase_and_resumes(
        flaky_dcs: Any, tmp_path: Path, canaries: dict[str, str],
        sandbox_factory: Callable[..., Any]) -> None:
    from acp_install.engine import Engine, PhaseFinished, PhaseProgress, Timeouts, read_state
    from acp_install.plan import build_plan
    from acp_install.spec.load import load_spec

    from specs import example, write

    provider = Provider(flaky_dcs, distribution="acp-install-flaky", version="9.9")
    loaded = load_spec(write(tmp_path / "spec.yaml", example("dcs")), provider=provider)
    plan = build_plan(loaded)
    sb = sandbox_factory(scenario="happy")
    # Machines stay where they are until the re-run waits for them: however slow the machine,
    # the control plane cannot become ready in between, so the re-run must run the phase itself
    machines = sb.hold("Machine", None, "cpaas-system")
    timeouts = Timeouts().with_overrides(packages=15, manifest=15, control_plane=20)

    def run(*, release: bool = False) -> list[Any]:
        events: list[Any] = []

        def watch(event: Any) -> None:
            events.append(event)
            if release and isinstance(event, PhaseProgress) and event.phase == "control-plane" \
                    and machines in sb.api.holds.active:
                sb.release(machines)  # the re-run checked the phase (not done) and now waits

        engine = Engine(plan, kubeconfig=sb.kubeconfig_path, workdir=tmp_path / "work",
                        provider=provider, timeouts=timeouts, poll_interval=0.1, resync=2.0)
        engine.subscribe(watch)
        engine.run(until="control-plane")
        return events

    with pytest.raises(PluginError) as err:
        run()
    assert ("acp-install-flaky 9.9: hook acp_ready_gates raised ConnectionError: inventory "
            "service unreachable") in err.value.message
    state = read_state(tmp_path / "work")
    assert state is not None
    phases = state["phases"]
    assert phases["packages"]["status"] == phases["manifest"]["status"] == "finished"
    assert phases["control-plane"]["status"] == "failed"
    assert phases["control-plane"]["error"].startswith("PluginError: provider plugin from "
                                                       "acp-install-flaky 9.9: hook acp_ready_gates")

    assert machines in sb.api.holds.active
    flaky_dcs.broken = False
    events = run(release=True)
    outcomes = {e.phase: e.outcome for e in events if isinstance(e, PhaseFinished)}
    assert outcomes == {"bootstrap": "skipped", "push": "skipped", "packages": "skipped", "manifest": "skipped",
                        "control-plane": "done"}
    state = read_state(tmp_path / "work")
    assert state is not None and state["phases"]["control-plane"]["status"] == "finished"


def test_a_chart_no_distribution_declares_stops_before_any_apprelease_then_fails_packages(
        tmp_path: Path, sandbox_factory: Callable[..., Any]) -> None:
    """A provider with no sandbox declaration: its chart is not in the sandbox's registry, so
    the run stops before any AppRelease, naming chart, version and registry. Pushed by hand,
    the AppRelease's own reason reaches the user at once (PackageError), not "CRD did not
    appear" at the deadline."""
    from acp_install.engine import Engine, Timeouts
    from acp_install.errors import PackageError
    from acp_install.plan import build_plan
    from acp_install.spec.load import parse

    provider = Provider(FooProvider(), distribution="acp-install-foo", version="0.1")
    plan = build_plan(parse(FOO_SPEC, provider=provider))
    sb = sandbox_factory(scenario="happy")

    def run() -> None:
        Engine(plan, kubeconfig=sb.kubeconfig_path, workdir=tmp_path / "work", provider=provider,
               timeouts=Timeouts().with_overrides(packages=3600), poll_interval=0.1,
               resync=1.0).run(until="packages")

    with pytest.raises(PackageError) as err:
        run()
    assert (f"chart ait/chart-cluster-api-provider-foo version v0.1.0 is not in the local "
            f"registry {sb.registry_address}") in err.value.message
    assert not [w for w in sb.recorder.writes if w.kind == "AppRelease"]

    sb.registry.push_chart("ait/chart-cluster-api-provider-foo", "v0.1.0")
    with pytest.raises(PackageError) as err:
        run()
    message = err.value.message
    assert "AppRelease cluster-api-provider-foo reports failure: ChartNotFound: charts not found: " \
           "cluster-api-provider-foo" in message
    assert "acp_install_sandbox.providers" in message
