"""``acp-install status``: the run state as exit code, and the live objects as a tree.

Against a real sandbox through the CLI. The "running" case holds the Machines where they are
(a sandbox hold), so the install is observably under way whatever the machine's load.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import dynamic

from acp_install.cli.main import main
from acp_install.engine import Engine, PhaseProgress, Timeouts
from acp_install_sandbox import Sandbox

from sandbox_helpers import api_client
from specs import example, write

Factory = Callable[..., Sandbox]


def status(capsys: pytest.CaptureFixture[str], workdir: Path, sb: Sandbox | None,
           *extra: str) -> tuple[int, str]:
    args = ["status", "--workdir", str(workdir), *extra]
    if sb is not None:
        args += ["--kubeconfig", str(sb.kubeconfig_path)]
    rc = main(args)
    return rc, capsys.readouterr().out


def install(sb: Sandbox, spec: Path, workdir: Path, *extra: str) -> int:
    return main(["install", "-f", str(spec), "--kubeconfig", str(sb.kubeconfig_path), "--workdir",
                 str(workdir), "-q", "--timeout-scale", "0.05", "--poll-interval", "0.1", *extra])


def live_machines(sb: Sandbox) -> set[str]:
    """Every Machine of the global cluster, as the official client lists it."""
    dyn = dynamic.DynamicClient(api_client(sb))
    machines = dyn.resources.get(api_version="cluster.x-k8s.io/v1beta1", kind="Machine")
    return {m.metadata.name for m in machines.get(namespace="cpaas-system").items}


def new_cluster_credentials(sb: Sandbox) -> list[str]:
    """The token(s) in the new cluster's kubeconfig Secret, which status reads and must not show."""
    import base64

    import yaml
    from kubernetes import client

    secret = client.CoreV1Api(api_client(sb)).read_namespaced_secret("global-kubeconfig", "cpaas-system")
    config = yaml.safe_load(base64.b64decode(secret.data["value"]))
    found = [str(u["user"][k]) for u in config["users"] for k in ("token", "client-key-data") if u["user"].get(k)]
    assert found
    return found


def tree_objects(tree: dict[str, Any]) -> list[dict[str, Any]]:
    out = [tree]
    for child in tree["children"]:
        out.extend(tree_objects(child))
    return out


@pytest.fixture
def spec(tmp_path: Path, canaries: dict[str, str]) -> Path:
    return write(tmp_path / "spec.yaml", example("dcs"))


def test_not_started(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rc, out = status(capsys, tmp_path, None)
    assert rc == 20 and "not started" in out
    rc, out = status(capsys, tmp_path, None, "-o", "json")
    assert rc == 20 and json.loads(out)["state"] == "not-started"
    assert main(["status", "--workdir", str(tmp_path / "nope")]) == 2


def test_complete_lists_every_machine(capsys: pytest.CaptureFixture[str], sandbox_factory: Factory,
                                      spec: Path, tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = sandbox_factory(scenario="happy")
    assert install(sb, spec, tmp_path / "w") == 0
    capsys.readouterr()
    rc, out = status(capsys, tmp_path / "w", sb)
    assert rc == 0 and "install complete" in out
    machines = live_machines(sb)
    assert len(machines) == 3
    for name in machines:  # every machine in the tree, under the control plane
        assert f"Machine/{name} " in out
    assert "Cluster/global " in out and "KubeadmControlPlane/global-kcp" in out
    assert "installer stage: Success 100%" in out
    assert "last event: " in out and "verify: " in out
    assert "new global cluster https://127." in out and "3 node(s)" in out
    assert not any(c in out for c in new_cluster_credentials(sb))
    rc, out = status(capsys, tmp_path / "w", sb, "-o", "json")
    doc = json.loads(out)
    assert rc == 0 and doc["state"] == "complete" and doc["cluster"]["reachable"] is True
    tree = doc["cluster"]["tree"]
    assert (tree["kind"], tree["name"], tree["state"], tree["ready"]) == ("Cluster", "global", "Provisioned", "True")
    kcp = next(c for c in tree["children"] if c["kind"] == "KubeadmControlPlane")
    assert kcp["state"] == "3/3 ready"
    assert {m["name"] for m in kcp["children"] if m["kind"] == "Machine"} == machines
    assert all(m["node"] for m in kcp["children"])  # each Machine's node
    # the new global cluster's nodes, read through its kubeconfig Secret: one per Machine, Ready
    new = doc["cluster"]["new_cluster"]
    assert new["error"] == "" and new["server"].startswith("https://127.")
    assert {n["name"] for n in new["nodes"]} == {m["node"] for m in kcp["children"]}
    assert {(n["ready"], n["reason"]) for n in new["nodes"]} == {("True", "")}
    assert all(n["state"].startswith("control-plane") for n in new["nodes"])
    for value in [*canaries.values(), *new_cluster_credentials(sb)]:
        assert value not in out


def test_failed(capsys: pytest.CaptureFixture[str], sandbox_factory: Factory, spec: Path, tmp_path: Path) -> None:
    sb = sandbox_factory(scenario="installer-fail")
    assert install(sb, spec, tmp_path / "w") == 11
    capsys.readouterr()
    rc, out = status(capsys, tmp_path / "w", sb)
    assert rc == 23, out
    assert "failed, phase monitor failed" in out
    assert "(exit code 11)" in out and "InstallerError" not in out  # words, not the Python class
    assert "installer stage: Failed" in out
    rc, out = status(capsys, tmp_path / "w", sb, "-o", "yaml")
    assert rc == 23 and "state: failed" in out


def test_stopped_and_unreachable_cluster(capsys: pytest.CaptureFixture[str], sandbox_factory: Factory,
                                         spec: Path, tmp_path: Path) -> None:
    sb = sandbox_factory(scenario="happy")
    assert install(sb, spec, tmp_path / "w", "--until", "manifest") == 0
    capsys.readouterr()
    rc, out = status(capsys, tmp_path / "w", sb)
    assert rc == 22 and "stopped before phase control-plane" in out
    assert "Cluster/global" in out
    sb.stop()
    rc, out = status(capsys, tmp_path / "w", sb, "--timeout", "2")
    assert rc == 22 and "cluster: not reachable" in out  # the state file still answers
    rc, out = status(capsys, tmp_path / "w", sb, "--no-cluster")
    assert rc == 22 and "cluster" not in out.split("\n", 1)[1]


def test_running_shows_the_machines_under_way(capsys: pytest.CaptureFixture[str], sandbox_factory: Factory,
                                              spec: Path, tmp_path: Path) -> None:
    sb = sandbox_factory(scenario="happy")
    hold = sb.hold("Machine", None, "cpaas-system", at=("status.phase", "Provisioned"))
    waiting = threading.Event()

    def watch(event: Any) -> None:
        if isinstance(event, PhaseProgress) and "machines: 3 Provisioned" in event.message:
            waiting.set()

    engine = Engine.from_spec(str(spec), kubeconfig=sb.kubeconfig_path, workdir=tmp_path / "w",
                              timeouts=Timeouts().with_overrides(control_plane=120), poll_interval=0.1,
                              resync=2.0)
    engine.subscribe(watch)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            engine.run(until="control-plane")
        except BaseException as err:  # pragma: no cover - shown by the assert below
            errors.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert waiting.wait(60), "the control plane wait never saw the held machines"
        rc, out = status(capsys, tmp_path / "w", sb, "-o", "json")
        doc = json.loads(out)
        assert rc == 21 and doc["state"] == "running"
        assert doc["phases"]["control-plane"]["status"] == "running"
        machines = [o for o in tree_objects(doc["cluster"]["tree"]) if o["kind"] == "Machine"]
        assert {m["name"] for m in machines} == live_machines(sb)
        assert {m["state"] for m in machines} == {"Provisioned"}
        # the latest fact of the event log, in the words the run printed it
        last = doc["last_event"]
        assert last["phase"] == "control-plane" and "KubeadmControlPlane global-kcp" in last["text"]
    finally:
        sb.release(hold)
        thread.join(120)
    assert not errors and not thread.is_alive()
    rc, _ = status(capsys, tmp_path / "w", sb)
    assert rc == 22  # stopped after --until control-plane


def test_a_node_not_ready_on_the_new_cluster_says_why(capsys: pytest.CaptureFixture[str],
                                                      sandbox_factory: Factory, spec: Path, tmp_path: Path) -> None:
    sb = sandbox_factory(scenario="node-not-ready")
    # The NotReady Node persists (the scenario never clears it), so verify fails fast whatever
    # the grace: a tiny one ends the run at once instead of after the default grace (scaled 15 s).
    assert install(sb, spec, tmp_path / "w", "--fail-fast-grace", "0.01") == 16
    capsys.readouterr()
    _rc, out = status(capsys, tmp_path / "w", sb)
    line = next(ln for ln in out.splitlines() if ln.startswith("  global-") and " False " in ln)
    assert "KubeletNotReady" in line and "cni plugin not initialized" in line


def test_workers_sit_under_their_machine_deployment(capsys: pytest.CaptureFixture[str], sandbox_factory: Factory,
                                                    tmp_path: Path, canaries: dict[str, str]) -> None:
    data = example("dcs")
    cp = data["platform"]["controlPlane"]
    worker = {k: v for k, v in cp.items() if k != "pool"}
    worker["disks"] = [d for d in cp["disks"] if d.get("path") != "/var/lib/etcd"]
    worker["pool"] = [{"ip": f"192.168.10.{30 + i}", "mask": "24", "gateway": "192.168.10.1",
                       "hostname": f"global-worker-{i}"} for i in range(2)]
    worker.update({"name": "global-worker", "replicas": 2})
    data["platform"]["workers"] = [worker]
    sb = sandbox_factory(scenario="happy")
    assert install(sb, write(tmp_path / "spec.yaml", data), tmp_path / "w", "--until", "control-plane") == 0
    capsys.readouterr()
    rc, out = status(capsys, tmp_path / "w", sb, "-o", "json")
    assert rc == 22
    tree = json.loads(out)["cluster"]["tree"]
    deployments = [c for c in tree["children"] if c["kind"] == "MachineDeployment"]
    assert [d["name"] for d in deployments] == ["global-worker"]
    workers = {m["name"] for m in deployments[0]["children"] if m["kind"] == "Machine"}
    kcp = next(c for c in tree["children"] if c["kind"] == "KubeadmControlPlane")
    masters = {m["name"] for m in kcp["children"]}
    assert len(workers) == 2 and len(masters) == 3
    assert workers | masters == live_machines(sb)  # every machine, each under its owner


@pytest.mark.parametrize("provider_id", ["dcs", "vsphere", "hcs", "baremetal"])
def test_every_machine_has_its_infrastructure_machine_cloned_from_the_template(
        provider_id: str, capsys: pytest.CaptureFixture[str], sandbox_factory: Factory,
        tmp_path: Path, canaries: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """As Cluster API does: the infrastructure machine a Machine names exists (the machine
    template's spec.template.spec, named like the Machine), so status shows no fault for it."""
    monkeypatch.setenv("HCS_SECRET_KEY", "hcs-secret-key-for-the-sandbox-0123456789")
    sb = sandbox_factory(scenario="happy")
    spec = write(tmp_path / "spec.yaml", example(provider_id))
    assert install(sb, spec, tmp_path / "w", "--until", "control-plane") == 0
    capsys.readouterr()
    rc, out = status(capsys, tmp_path / "w", sb, "-o", "json")
    kcp = next(c for c in json.loads(out)["cluster"]["tree"]["children"] if c["kind"] == "KubeadmControlPlane")
    machines = [m for m in kcp["children"] if m["kind"] == "Machine"]
    assert rc == 22 and len(machines) == 3  # 22: stopped where --until said
    for m in machines:
        (infra,) = m["children"]
        assert (infra["name"], infra["state"], infra["ready"]) == (m["name"], "", "True"), m
    dyn = dynamic.DynamicClient(api_client(sb))
    kcp_obj = dyn.resources.get(api_version="controlplane.cluster.x-k8s.io/v1beta1",
                                kind="KubeadmControlPlane").get(name="global-kcp", namespace="cpaas-system")
    tref = kcp_obj.spec.machineTemplate.infrastructureRef
    template = dyn.resources.get(api_version=tref.apiVersion, kind=tref.kind).get(
        name=tref.name, namespace="cpaas-system").to_dict()
    infra_kind = dyn.resources.get(api_version=tref.apiVersion, kind=tref.kind.removesuffix("Template"))
    for m in machines:
        obj = infra_kind.get(name=m["name"], namespace="cpaas-system").to_dict()
        assert obj["spec"] == template["spec"]["template"]["spec"]
        assert obj["metadata"]["ownerReferences"][0]["kind"] == "Machine"
