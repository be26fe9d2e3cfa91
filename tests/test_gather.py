"""``acp-install gather`` after a happy, a stalled and an interrupted install.

Each bundle is unpacked and checked for its layout, and every byte of it is scanned for the
canaries planted in every secret of the spec, in a Secret on minialauda and on the new cluster,
and for the clusters' own credentials.
"""

from __future__ import annotations

import base64
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from acp_install import Engine, Timeouts, build_plan, load_spec
from acp_install.cli.main import main
from acp_install.engine import Event, PhaseFinished
from acp_install.errors import Interrupted, WaitTimeout
from acp_install.plugins import load_provider
from acp_install.spec.example import example_spec
from acp_install.testing.canaries import Canaries, encodings, new_canary, plant
from acp_install_sandbox import Sandbox


@pytest.fixture
def planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Canaries:
    provider = load_provider("dcs")
    return plant(provider, example_spec(provider), tmp_path / "spec", monkeypatch)


def engine(sb: Sandbox, spec: Path, workdir: Path, **timeouts: float) -> Engine:
    loaded = load_spec(spec)
    return Engine(build_plan(loaded), provider=loaded.provider, kubeconfig=sb.kubeconfig_path,
                  workdir=workdir, poll_interval=0.1, resync=1.0,
                  timeouts=Timeouts(scale=0.05, **timeouts))  # type: ignore[arg-type]


def secret(name: str, value: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "cpaas-system"},
            "data": {"password": base64.b64encode(value.encode()).decode()}}


def run_gather(kubeconfig: Path, tmp_path: Path, spec: Path, workdir: Path,
               capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[Path, str]:
    out = tmp_path / "bundle.tar.gz"
    log = tmp_path / "installer.log"
    assert main(["gather", "--kubeconfig", str(kubeconfig), "--workdir", str(workdir),
                 "--out", str(out), "-f", str(spec), "--installer-log", str(log), "--timeout", "20",
                 *extra]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().splitlines()[-1] == str(out)  # the path, printed last
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    root = tmp_path / "unpacked"
    with tarfile.open(out) as tar:
        names = tar.getnames()
        tar.extractall(root, filter="data")
    (top,) = {n.split("/")[0] for n in names}
    assert f"{top}/SUMMARY.md" in names
    return root / top, captured.err


def scan(root: Path, planted: Canaries, *values: str) -> None:
    planted.assert_tree_absent(root, "the gather bundle")
    for path in (p for p in root.rglob("*") if p.is_file()):
        blob = path.read_bytes()
        for value in values:
            assert not any(form in blob for form in encodings(value)), f"a credential leaked into {path}"


def test_gather_after_a_happy_install(tmp_path: Path, planted: Canaries,
                                      sandbox_factory: Callable[..., Sandbox],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    # monitor sees every installer stage Running whatever the speed (the sandbox's installer
    # finishes a stage only after a progress answer showed it), so its answers are in the bundle
    sb = sandbox_factory()
    workdir = tmp_path / "w"
    assert engine(sb, planted.spec_path, workdir).run().complete
    on_boot, on_global = new_canary(), new_canary()
    sb.api.apply_object(secret("planted", on_boot), manager="test")
    gc = sb.global_cluster
    assert gc is not None
    gc.api.apply_object(secret("planted-global", on_global), manager="test")
    admin = next(v for k, v in planted.values.items() if "ACP_ADMIN_PASSWORD" in k)
    (tmp_path / "installer.log").write_text(f"phase PlatformInstallation done\npayload password={admin}\n")
    root, err = run_gather(sb.kubeconfig_path, tmp_path, planted.spec_path, workdir, capsys)
    for name in ("SUMMARY.md", "state/state.json", "state/events.jsonl", "plan/global.yaml",
                 "plan/appreleases.yaml", "minialauda/secrets.yaml", "minialauda/events.yaml",
                 "minialauda/pods.yaml", "minialauda/configmaps.yaml",
                 "minialauda/objects/Machine.cluster.x-k8s.io.yaml",
                 "minialauda/objects/KubeadmControlPlane.controlplane.cluster.x-k8s.io.yaml",
                 "minialauda/objects/DCSCluster.infrastructure.cluster.x-k8s.io.yaml",
                 "minialauda/logs/cpaas-system/cpaas-installer_installer.log",
                 "minialauda/logs/cpaas-system/capi-controller-manager-0_manager.log",
                 "installer/progress.json", "installer/progress-seen.jsonl", "host/installer.log",
                 "global/nodes.yaml", "global/pods-kube-system.yaml", "global/pods-cpaas-system.yaml",
                 "global/events.yaml", "global/clustermodule-global.yaml",
                 "global/platform-cluster-global.yaml", "global/verification.txt",
                 "global/secrets-cpaas-system.yaml"):
        assert (root / name).is_file(), name
    listing = (root / "minialauda/secrets.yaml").read_text()
    assert "name: planted" in listing and "- password" in listing  # by name and key only
    assert "global-kubeconfig" in listing
    assert "name: k8sadmin" in (root / "global/secrets-cpaas-system.yaml").read_text()
    assert '"status": "Success"' in (root / "installer/progress.json").read_text()
    assert "Machine phase changed" in (root / "minialauda/logs/cpaas-system/capi-controller-manager-0_manager.log"
                                       ).read_text()
    assert "payload password=<redacted>" in (root / "host/installer.log").read_text()
    summary = (root / "SUMMARY.md").read_text()
    assert "No symptom of the seed's Common Stalls table" in summary
    assert "- `verify`: finished" in summary
    assert "## Not collected" in summary and "- nothing: every source answered" in summary
    scan(root, planted, on_boot, on_global, gc.token, gc.k8sadmin_token, sb.token)
    assert "not collected:" not in err
    # the event log on disk (before gather's own redaction) holds no secret either
    log = workdir / ".acp-install" / "events.jsonl"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    planted.assert_absent(log.read_bytes(), "the event log")


def test_gather_after_a_stalled_install(tmp_path: Path, planted: Canaries,
                                        sandbox_factory: Callable[..., Sandbox],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    sb = sandbox_factory(scenario="machines-pending")
    workdir = tmp_path / "w"
    with pytest.raises(WaitTimeout):  # the quota condition never clears: any grace fails fast
        engine(sb, planted.spec_path, workdir, fail_fast=0.2).run()
    canary = new_canary()
    sb.api.apply_object(secret("planted", canary), manager="test")
    root, err = run_gather(sb.kubeconfig_path, tmp_path, planted.spec_path, workdir, capsys)
    summary = (root / "SUMMARY.md").read_text()
    assert "### Machines stay in Pending or do not appear" in summary
    assert "kubectl describe machine -n cpaas-system" in summary
    assert "insufficient quota" in summary
    assert "- `control-plane`: failed" in summary
    # what could not be collected, and why
    assert "`global/`: Secret cpaas-system/global-kubeconfig does not exist" in summary
    assert "`installer/progress.json`: no installer address" in summary
    assert "`host/installer.log`" in summary and "No such file" in summary
    assert "diagnosis: Machines stay in Pending" in err
    assert (root / "minialauda/objects/Machine.cluster.x-k8s.io.yaml").is_file()
    scan(root, planted, canary, sb.token)


def test_gather_after_an_interrupted_install_with_the_clusters_gone(
        tmp_path: Path, planted: Canaries, sandbox_factory: Callable[..., Sandbox],
        capsys: pytest.CaptureFixture[str]) -> None:
    sb = sandbox_factory()
    workdir = tmp_path / "w"
    eng = engine(sb, planted.spec_path, workdir)

    def stop_after_installer(event: Event) -> None:
        if isinstance(event, PhaseFinished) and event.phase == "installer":
            eng.cancel()

    eng.subscribe(stop_after_installer)
    with pytest.raises(Interrupted):
        eng.run()
    assert sb.global_cluster is not None
    gc_token = sb.global_cluster.token
    kubeconfig = tmp_path / "minialauda.kubeconfig"
    kubeconfig.write_bytes(sb.kubeconfig_path.read_bytes())
    sb.stop()  # minialauda, the installer and the new cluster are all unreachable now
    root, err = run_gather(kubeconfig, tmp_path, planted.spec_path, workdir, capsys, "--timeout", "5")
    summary = (root / "SUMMARY.md").read_text()
    assert "- `installer`: finished" in summary and "- `monitor`:" not in summary
    assert "`minialauda/`:" in summary and "connection refused" in summary
    assert "`installer/progress.json`:" in summary
    for name in ("state/state.json", "state/events.jsonl", "plan/global.yaml"):
        assert (root / name).is_file(), name
    assert not (root / "minialauda").exists() and not (root / "global").exists()
    assert "not collected: minialauda/" in err
    scan(root, planted, gc_token, sb.token)


def test_gather_reports_a_cluster_that_refuses_at_once(
        tmp_path: Path, planted: Canaries, sandbox_factory: Callable[..., Sandbox],
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listening at minialauda's or the new cluster's address is what a diagnostic
    bundle reports, not a fault to wait out: no refused connection to a cluster that never
    answered is retried (the engine's clients retry one for a few seconds of grace, which
    would delay the bundle by that much per cluster)."""
    from acp_install.clients.kube import KubeClient, refused

    judged: list[bool] = []
    transient = KubeClient._transient

    def spy(self: KubeClient, err: BaseException) -> bool:
        verdict = transient(self, err)
        if refused(err):
            judged.append(verdict)
        return verdict

    monkeypatch.setattr(KubeClient, "_transient", spy)
    sb = sandbox_factory()
    gone = tmp_path / "gone.kubeconfig"  # a kubeconfig of a cluster that is not there any more
    gone.write_bytes(sb.kubeconfig_path.read_bytes())
    sb.stop()
    (tmp_path / "w").mkdir()
    root, err = run_gather(gone, tmp_path, planted.spec_path, tmp_path / "w", capsys,
                           "--global-kubeconfig", str(gone))
    summary = (root / "SUMMARY.md").read_text()
    assert "`minialauda/`:" in summary and "`global/`:" in summary
    assert summary.count("connection refused: nothing listens at") == 2
    assert judged and not any(judged)  # each refusal reported, none retried
    assert not (root / "minialauda").exists() and not (root / "global").exists()
    assert "not collected: minialauda/" in err


def test_gather_refuses_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gather", "--workdir", str(tmp_path / "nope")]) == 2
    assert "--workdir" in capsys.readouterr().err
    assert main(["gather", "--workdir", str(tmp_path), "--out", "-"]) == 2
    assert main(["gather", "--workdir", str(tmp_path), "--timeout", "0"]) == 2


def test_gather_redacts_a_secret_that_yaml_would_quote_or_fold(
        tmp_path: Path, planted: Canaries, sandbox_factory: Callable[..., Sandbox],
        capsys: pytest.CaptureFixture[str]) -> None:
    """A Secret's value with a quote and spaces, repeated in a ConfigMap and a Pod: YAML writes
    ``'`` as ``''`` inside single quotes and folds long values at spaces, so redacting the
    dumped text would miss it. The random middle of the value must be nowhere in the bundle."""
    sb = sandbox_factory()
    token = new_canary()
    value = f"S3cr'et {token} value-123 with spaces"
    sb.api.apply_object(secret("quoted", value), manager="test")
    long_line = "word " * 20 + f"password: {value} " + "tail " * 20
    sb.api.apply_object({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "settings", "namespace": "cpaas-system"},
                         "data": {"app.conf": f"password: {value}", "long": long_line, "plain": value}},
                        manager="test")
    sb.api.apply_object({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": "app", "namespace": "cpaas-system",
                                      "annotations": {"note": long_line}},
                         "spec": {"containers": [{"name": "app", "image": "app:1",
                                                  "env": [{"name": "PASSWORD", "value": value},
                                                          {"name": "ARGS", "value": f"'{value}'"}]}]}},
                        manager="test")
    (tmp_path / "w").mkdir()  # no install ran: the bundle holds what the cluster has
    root, _err = run_gather(sb.kubeconfig_path, tmp_path, planted.spec_path, tmp_path / "w", capsys)
    configmaps = (root / "minialauda/configmaps.yaml").read_text()
    assert "name: settings" in configmaps and "<redacted>" in configmaps
    assert "name: app" in (root / "minialauda/pods.yaml").read_text()
    scan(root, planted, value, token)
