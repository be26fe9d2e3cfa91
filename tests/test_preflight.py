"""Preflight against the infrastructure (issue #11): each check passes and fails on loopback
fixtures, the sandbox's stand-ins keep every probe on 127.0.0.0/8, a failure stops the install
before anything is applied.

Fixtures are real listeners on loopback addresses of their own: a bound-but-not-listening
socket answers nothing (a free VIP), a listening one answers (a VIP in use), a tiny HTTP server
answers ``/v2/`` with 401 (a registry asking for credentials), the sandbox's API speaks TLS.
"""

from __future__ import annotations

import http.server
import ipaddress
import json
import random
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from acp_install import Engine, build_plan, load_spec
from acp_install.cli.main import main
from acp_install.clients.kube import KubeClient
from acp_install.engine.infra import CheckResult, run_preflight
from acp_install.errors import PreflightFailed
from acp_install.plan import InstallPlan
from acp_install_sandbox import Sandbox

from specs import example, write
from support import audit_events


def loopback_socket(port: int = 0, *, listen: bool) -> socket.socket:
    """A socket on a random 127.x address (``port`` 0: any), listening or only bound."""
    for _ in range(50):
        address = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((address, port))
        except OSError:
            sock.close()
            continue
        if listen:
            sock.listen(8)
        return sock
    raise RuntimeError("no free loopback address")


@pytest.fixture
def sockets() -> Iterator[Callable[..., socket.socket]]:
    made: list[socket.socket] = []

    def make(port: int = 0, *, listen: bool) -> socket.socket:
        sock = loopback_socket(port, listen=listen)
        made.append(sock)
        return sock

    yield make
    for sock in made:
        sock.close()


def where(sock: socket.socket) -> str:
    host, port = sock.getsockname()
    return f"{host}:{port}"


class _Registry(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # a registry that asks for credentials
        self.send_response(401 if self.path == "/v2/" else 404)
        self.send_header("WWW-Authenticate", 'Basic realm="registry"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def registry_401() -> Iterator[str]:
    sock = loopback_socket(listen=False)
    address = sock.getsockname()[0]
    sock.close()
    server = http.server.ThreadingHTTPServer((address, 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"{address}:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def dcs_plan(tmp_path: Path, canaries: dict[str, str]) -> tuple[Any, InstallPlan]:
    loaded = load_spec(write(tmp_path / "spec.yaml", example("dcs")))
    return loaded, build_plan(loaded)


def with_spec(plan: InstallPlan, **changes: Any) -> InstallPlan:
    """The plan with spec fields set to loopback fixtures (as no spec check would allow)."""
    return attrs.evolve(plan, spec=attrs.evolve(plan.spec, **changes))


def unannounced(sb: Sandbox) -> None:
    """Make the sandbox look like a real minialauda: probes then go to the spec's addresses."""
    with KubeClient(sb.kubeconfig_path) as kube:
        assert kube.delete("v1", "ConfigMap", "acp-install-sandbox", "kube-public")


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    out: dict[str, CheckResult] = {}
    for r in results:
        out.setdefault(r.name, r)
    return out


def test_every_check_passes_or_is_skipped_against_the_sandbox_stand_ins(
        dcs_plan: tuple[Any, InstallPlan], sandbox: Sandbox) -> None:
    loaded, plan = dcs_plan
    with KubeClient(sandbox.kubeconfig_path) as kube:
        results = run_preflight(plan, loaded.provider, kube)
    got = by_name(results)
    for name in ("minialauda", "vip-free", "platform-host", "local-registry", "node-registry", "dcs-api"):
        assert got[name].status == "pass", got[name]
    assert "(sandbox stand-in)" in got["dcs-api"].detail and "TLS" in got["dcs-api"].detail
    # the node IPs have no stand-in: skipped, and said so
    nodes = [r for r in results if r.name == "node-ips"]
    assert len(nodes) == 3 and {r.status for r in nodes} == {"skip"}
    assert all("no stand-in" in r.detail for r in nodes)


def test_a_vip_that_already_answers_fails(dcs_plan: tuple[Any, InstallPlan], sandbox: Sandbox,
                                          sockets: Callable[..., socket.socket]) -> None:
    loaded, plan = dcs_plan
    unannounced(sandbox)
    busy = sockets(6443, listen=True)
    free = sockets(6443, listen=False)
    with KubeClient(sandbox.kubeconfig_path) as kube:
        taken = by_name(run_preflight(with_spec(plan, controlPlaneVIP=busy.getsockname()[0]),
                                      loaded.provider, kube, skip=["dcs-api", "node-ips"]))
        ok = by_name(run_preflight(with_spec(plan, controlPlaneVIP=free.getsockname()[0]),
                                   loaded.provider, kube, skip=["dcs-api", "node-ips"]))
    assert taken["vip-free"].status == "fail"
    assert f"{busy.getsockname()[0]}:6443 (control-plane VIP) already answers" in taken["vip-free"].detail
    assert ok["vip-free"].status == "pass"


def test_registries_that_answer_401_pass_and_silent_ones_fail(
        dcs_plan: tuple[Any, InstallPlan], sandbox: Sandbox, registry_401: str,
        sockets: Callable[..., socket.socket]) -> None:
    loaded, plan = dcs_plan
    unannounced(sandbox)
    silent = where(sockets(listen=False))
    with KubeClient(sandbox.kubeconfig_path) as kube:
        got = by_name(run_preflight(with_spec(plan, localRegistryAddress=registry_401,
                                              nodeRegistryAddress=silent),
                                    loaded.provider, kube, skip=["dcs-api", "node-ips", "vip-free"]))
        dead = by_name(run_preflight(with_spec(plan, localRegistryAddress=silent),
                                     loaded.provider, kube, skip=["dcs-api", "node-ips", "vip-free"]))
    assert got["local-registry"].status == "pass" and "asks for credentials" in got["local-registry"].detail
    # the node side from this host is a hint only
    assert got["node-registry"].status == "warn" and "from this host" in got["node-registry"].detail
    assert dead["local-registry"].status == "fail" and silent in dead["local-registry"].detail


@pytest.mark.parametrize("answers, dr_role, status", [
    (["192.168.1.100"], None, "pass"),
    (["192.168.9.9"], None, "warn"),
    ([], None, "fail"),
    (["192.168.2.100"], "primary", "fail"),  # DR: the primary VIP before the primary install
    (["192.168.1.100"], "primary", "pass"),
], ids=["resolves-to-vip", "other-address", "no-answer", "dr-primary-not-switched-back", "dr-primary"])
def test_the_platform_host_must_resolve_to_the_vip_the_spec_implies(
        answers: list[str], dr_role: str | None, status: str, dcs_plan: tuple[Any, InstallPlan],
        sandbox: Sandbox) -> None:
    loaded, plan = dcs_plan
    unannounced(sandbox)
    if dr_role is not None:
        from acp_install.secrets import SecretRef
        from acp_install.spec.model import DisasterRecovery

        plan = with_spec(plan, dr=DisasterRecovery(role=dr_role, primaryVIP="192.168.1.100",  # type: ignore[arg-type]
                                                   standbyVIP="192.168.2.100",
                                                   encryptionKey=SecretRef(env="ENCRYPTION_KEY")))
    asked: list[str] = []

    def resolver(host: str) -> list[str]:
        asked.append(host)
        return answers

    with KubeClient(sandbox.kubeconfig_path) as kube:
        got = by_name(run_preflight(plan, loaded.provider, kube, resolver=resolver,
                                    skip=["dcs-api", "node-ips", "vip-free", "local-registry", "node-registry"]))
    assert asked == ["platform.example.com"]
    assert got["platform-host"].status == status, got["platform-host"]


def test_the_iaas_api_must_speak_tls(dcs_plan: tuple[Any, InstallPlan], sandbox: Sandbox,
                                     sockets: Callable[..., socket.socket]) -> None:
    """The DCS probe connects to the spec's endpoint: the sandbox API (TLS) passes, a listener
    that never speaks TLS and an address where nothing listens fail."""
    loaded, plan = dcs_plan
    unannounced(sandbox)
    tls = sandbox.server_url.removeprefix("https://")
    plain, nothing = where(sockets(listen=True)), where(sockets(listen=False))

    def probe(endpoint: str, timeout: float = 1.0) -> CheckResult:
        p = attrs.evolve(plan.spec.platform,
                         credentials=attrs.evolve(plan.spec.platform.credentials, endpoint=f"https://{endpoint}"))
        with KubeClient(sandbox.kubeconfig_path) as kube:
            return by_name(run_preflight(with_spec(plan, platform=p), loaded.provider, kube, timeout=timeout,
                                         skip=["node-ips", "vip-free", "local-registry", "node-registry",
                                               "platform-host"]))["dcs-api"]

    assert probe(tls).status == "pass"
    # a silent listener fails whatever the timeout (its handshake never ends), and nothing
    # listening fails at once: the probe's timeout only sets how long the first one takes
    assert probe(plain, timeout=0.2).status == "fail"
    failed = probe(nothing, timeout=0.2)
    assert failed.status == "fail" and "does not answer" in failed.detail


def test_skipped_checks_are_reported(dcs_plan: tuple[Any, InstallPlan], sandbox: Sandbox) -> None:
    loaded, plan = dcs_plan
    with KubeClient(sandbox.kubeconfig_path) as kube:
        got = by_name(run_preflight(plan, loaded.provider, kube, skip=["vip-free"]))
    assert got["vip-free"] == CheckResult("vip-free", "skip", "skipped (--skip-preflight)")


def test_a_global_cluster_is_not_minialauda(dcs_plan: tuple[Any, InstallPlan], tmp_path: Path,
                                            sandbox_factory: Callable[..., Sandbox]) -> None:
    """Pointing the install at the NEW global cluster (it serves the platform Cluster) fails."""
    loaded, plan = dcs_plan
    sb = sandbox_factory()
    eng = Engine(plan, provider=loaded.provider, kubeconfig=sb.kubeconfig_path, workdir=tmp_path / "w",
                 poll_interval=0.05, resync=1.0)
    assert eng.run().complete
    gc = sb.global_cluster
    assert gc is not None
    (tmp_path / "global.kubeconfig").write_text(gc.kubeconfig())
    with KubeClient(tmp_path / "global.kubeconfig") as kube:
        got = by_name(run_preflight(plan, loaded.provider, kube))
    assert got["minialauda"].status == "fail" and "is a global cluster" in got["minialauda"].detail


def test_a_failed_check_stops_the_install_before_anything_is_applied(
        dcs_plan: tuple[Any, InstallPlan], sandbox: Sandbox, tmp_path: Path,
        sockets: Callable[..., socket.socket]) -> None:
    loaded, plan = dcs_plan
    busy = where(sockets(listen=True))
    with KubeClient(sandbox.kubeconfig_path) as kube:  # the sandbox's VIP stand-in now answers
        cm = kube.get("v1", "ConfigMap", "acp-install-sandbox", "kube-public")
        assert cm is not None
        cm["data"]["controlPlaneVIP"] = busy
        kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": "acp-install-sandbox", "namespace": "kube-public"}, "data": cm["data"]})
    before = len(sandbox.recorder.writes)
    eng = Engine(plan, provider=loaded.provider, kubeconfig=sandbox.kubeconfig_path, workdir=tmp_path / "w",
                 poll_interval=0.05)
    with pytest.raises(PreflightFailed) as caught:
        eng.run()
    assert caught.value.exit_code == 18
    assert "vip-free" in str(caught.value) and busy in str(caught.value)
    assert len(sandbox.recorder.writes) == before  # nothing applied
    assert not sandbox.recorder.installer_payloads
    # skipping them (the moved VIP stand-in also no longer matches the DNS one) lets it go on
    eng = Engine(plan, provider=loaded.provider, kubeconfig=sandbox.kubeconfig_path, workdir=tmp_path / "w",
                 poll_interval=0.05, resync=1.0, skip_preflight=["vip-free", "platform-host"])
    assert eng.run().complete


def test_a_sandbox_install_connects_to_loopback_only(dcs_plan: tuple[Any, InstallPlan], tmp_path: Path,
                                                     sandbox: Sandbox) -> None:
    """Every socket connect of a whole install (preflight included), seen by an audit hook."""
    loaded, plan = dcs_plan
    with audit_events("socket.connect", 1) as seen:
        eng = Engine(plan, provider=loaded.provider, kubeconfig=sandbox.kubeconfig_path,
                     workdir=tmp_path / "w", poll_interval=0.05, resync=1.0)
        assert eng.run().complete
    hosts = {a[0] for a in seen if isinstance(a, tuple)}
    assert hosts, "the install made no connection at all?"
    assert all(ipaddress.ip_address(h).is_loopback for h in hosts), hosts


def test_preflight_command_table_json_and_exit_code(tmp_path: Path, canaries: dict[str, str], sandbox: Sandbox,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path / "spec.yaml", example("vsphere"))
    code = main(["preflight", "-f", str(spec), "--kubeconfig", str(sandbox.kubeconfig_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "vcenter-api" in out and "passed, 0 failed" in out
    code = main(["preflight", "-f", str(spec), "--kubeconfig", str(sandbox.kubeconfig_path),
                 "-o", "json", "--skip-preflight", "vcenter-api"])
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert code == 0 and doc["ok"]
    assert {"name": "vcenter-api", "status": "skip", "detail": "skipped (--skip-preflight)"} in doc["checks"]


def test_an_unknown_check_name_is_a_usage_error(dcs_plan: tuple[Any, InstallPlan], sandbox: Sandbox) -> None:
    from acp_install.errors import UsageError

    loaded, plan = dcs_plan
    with KubeClient(sandbox.kubeconfig_path) as kube, pytest.raises(UsageError) as caught:
        run_preflight(plan, loaded.provider, kube, skip=["vip-fre"])
    assert "--skip-preflight vip-fre: no such check" in str(caught.value) and "vip-free" in str(caught.value)


def test_a_restart_after_the_install_does_not_check_the_site_again(
        dcs_plan: tuple[Any, InstallPlan], sandbox: Sandbox, tmp_path: Path,
        sockets: Callable[..., socket.socket]) -> None:
    """Once the install applied anything, the VIP answering is our own cluster: ``--restart``
    (what the "plan changed" error recommends) must not be refused by ``vip-free``."""
    loaded, plan = dcs_plan
    eng = Engine(plan, provider=loaded.provider, kubeconfig=sandbox.kubeconfig_path, workdir=tmp_path / "w",
                 poll_interval=0.05, resync=1.0)
    assert eng.run().complete
    busy = where(sockets(listen=True))
    with KubeClient(sandbox.kubeconfig_path) as kube:
        cm = kube.get("v1", "ConfigMap", "acp-install-sandbox", "kube-public")
        assert cm is not None
        kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": "acp-install-sandbox", "namespace": "kube-public"},
            "data": {**cm["data"], "controlPlaneVIP": busy}})
    events: list[Any] = []
    eng = Engine(plan, provider=loaded.provider, kubeconfig=sandbox.kubeconfig_path, workdir=tmp_path / "w",
                 poll_interval=0.05, resync=1.0, restart=True)
    eng.subscribe(events.append)
    assert eng.run().complete
    assert not [e for e in events if getattr(e, "phase", "") == "preflight"]
