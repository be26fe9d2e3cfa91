"""Preflight against the site's infrastructure, before the first side effect.

A VIP that another cluster already answers on, a platform host that does not resolve, a
registry or IaaS API that cannot be reached: each costs a failed 30-60 minute install when it
is found late. These checks run concurrently (a few seconds in all on a healthy site), each
named, each skippable (``--skip-preflight NAME``; skipped ones are reported):

``minialauda``      the API answers and is the bootstrap cluster, not a global cluster
``vip-free``        nothing answers on ``controlPlaneVIP:6443`` yet
``platform-host``   ``platformHost`` resolves, to the VIP the spec implies
``local-registry``  ``localRegistryAddress`` answers ``/v2/`` from this host
``node-registry``   the node-facing registry answers ``/v2/`` from this host (a hint only:
                    the nodes see it from their subnet)
``versions``        the version inputs agree (pure, on the plan): the spec's version findings
                    (rule ``versions``: the core's, and the providers' gates from
                    ``acp_validate``) and the Kubernetes 1.35 kubelet patch rule
provider probes     ``acp_preflight``: the IaaS API speaks TLS, static node IPs are free

Against a sandbox (it announces itself, :mod:`.standins`) every probe goes to the announced
loopback stand-in of its field, and a probe without one is skipped and says so: nothing a
sandbox run does leaves 127.0.0.0/8.
"""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .. import netcheck
from ..clients import tls
from ..errors import AcpInstallError, PreflightFailed
from ..records import Probe
from . import standins

if TYPE_CHECKING:
    from ..clients.kube import KubeClient
    from ..plan import InstallPlan
    from ..plugins import Provider

__all__ = ["CORE_CHECKS", "CheckResult", "PreflightFailed", "run_preflight"]

Status = Literal["pass", "fail", "warn", "skip"]
#: the core's checks, in the order they are reported (provider probes follow)
CORE_CHECKS = ("minialauda", "vip-free", "platform-host", "local-registry", "node-registry", "versions")
API_PORT = 6443
Resolver = Callable[[str], Sequence[str]]


@attrs.frozen
class CheckResult:
    name: str
    status: Status
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


def _split(host_port: str, default_port: int) -> tuple[str, int]:
    host, sep, port = host_port.rpartition(":")
    if sep and port.isdigit() and host:
        return host.strip("[]"), int(port)
    return host_port.strip("[]"), default_port


def _connect(host: str, port: int, timeout: float) -> socket.socket | None:
    """An open connection, or None when nothing answers (refused, unreachable, timed out)."""
    try:
        return socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return None


def _free(name: str, what: str, host: str, port: int, timeout: float) -> CheckResult:
    conn = _connect(host, port, timeout)
    if conn is None:
        return CheckResult(name, "pass", f"nothing answers on {host}:{port} ({what})")
    conn.close()
    return CheckResult(name, "fail", f"{host}:{port} ({what}) already answers: another machine or "
                       "cluster owns this address; choose a free one or stop what serves there")


def _tls(name: str, what: str, host: str, port: int, timeout: float) -> CheckResult:
    conn = _connect(host, port, timeout)
    if conn is None:
        return CheckResult(name, "fail", f"{what} {host}:{port} does not answer from this host "
                           "(firewall, route or address?)")
    ctx = tls.unverified()  # reachability and TLS only; trust is the provider's client's
    try:
        with ctx.wrap_socket(conn, server_hostname=host if netcheck.ip_error(host) is not None else None) as wrapped:
            version = wrapped.version() or "TLS"
    except (OSError, ssl.SSLError) as err:
        conn.close()
        return CheckResult(name, "fail", f"{what} {host}:{port} answers but not with TLS ({err.__class__.__name__})")
    return CheckResult(name, "pass", f"{what} {host}:{port} answers {version}")


def _registry(name: str, address: str, timeout: float, hint_only: bool) -> CheckResult:
    import httpx

    bad: Status = "warn" if hint_only else "fail"
    suffix = " (from this host; the nodes reach it from their subnet)" if hint_only else ""
    try:
        resp = httpx.get(f"http://{address}/v2/", timeout=timeout, verify=tls.httpx_default())
    except httpx.HTTPError as err:
        return CheckResult(name, bad, f"{address}/v2/ does not answer ({err.__class__.__name__}){suffix}")
    if resp.status_code in (200, 401):
        auth = " (asks for credentials)" if resp.status_code == 401 else ""
        return CheckResult(name, "pass", f"{address}/v2/ answers{auth}{suffix}")
    return CheckResult(name, bad, f"{address}/v2/ answered {resp.status_code}: not a registry API{suffix}")


def _minialauda(kube: KubeClient) -> CheckResult:
    from ..errors import ClusterError

    try:
        kube.get("v1", "Namespace", "kube-system")
    except ClusterError as err:
        return CheckResult("minialauda", "fail", f"the API does not answer: {err.message}")
    try:
        found = kube.get("platform.tkestack.io/v1", "Cluster", "global")
    except ClusterError:
        found = None  # the kind is not served: not a global cluster
    if found is not None:
        return CheckResult("minialauda", "fail", "this API is a global cluster (clusters.platform.tkestack.io/"
                           "global exists), not minialauda: pass --kubeconfig of the bootstrap cluster")
    server = str(kube.api_client.configuration.host)
    return CheckResult("minialauda", "pass", f"the bootstrap cluster answers at {server}")


def _platform_host(plan: InstallPlan, resolve: Resolver, sandbox: Mapping[str, str]) -> CheckResult:
    spec = plan.spec
    want = spec.controlPlaneVIP
    if spec.dr is not None:
        want = spec.dr.primaryVIP if spec.dr.role == "primary" else spec.dr.standbyVIP
    host = spec.platformHost
    if netcheck.ip_error(host) is None:
        return CheckResult("platform-host", "pass", f"platformHost is the address {host}: nothing to resolve")
    if sandbox:
        answer = sandbox.get("platformHost")
        if answer is None:
            return CheckResult("platform-host", "skip", "the sandbox announces no DNS answer for it")
        vip = sandbox.get("controlPlaneVIP", "")
        ok = answer == _split(vip, API_PORT)[0]
        return CheckResult("platform-host", "pass" if ok else "fail",
                           f"{host} resolves (sandbox stand-in) to {answer}"
                           + ("" if ok else f", not the VIP stand-in {vip}"))
    answers = list(resolve(host))
    if not answers:
        return CheckResult("platform-host", "fail", f"{host} does not resolve on this host: create its "
                           f"DNS record (to {want}) before the install")
    if want in answers:
        return CheckResult("platform-host", "pass", f"{host} resolves to {want}")
    side = f" ({spec.dr.role} side)" if spec.dr is not None else ""
    status: Status = "fail" if spec.dr is not None else "warn"
    return CheckResult("platform-host", status, f"{host} resolves to {', '.join(answers)}, not the VIP "
                       f"{want}{side}" + ("" if status == "fail" else
                                          " (fine when a load balancer in front owns the name)"))


#: The KubeletConfiguration key Kubernetes 1.35 needs in every kubelet patch (control plane and
#: worker) and earlier minors must not have (reference: "Kubernetes 1.35+: add ... omit for 1.34
#: and earlier"; every provider's create-cluster page).
KUBELET_135_KEY = "imagePullCredentialsVerificationPolicy"


def _kubelet_patches(value: Any, where: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """Every KubeletConfiguration patch written inline in the manifest, with where it is."""
    if isinstance(value, Mapping):
        if isinstance(value.get("content"), str) and "KubeletConfiguration" in value["content"]:
            try:
                patch = json.loads(value["content"])
            except ValueError:
                patch = None
            if isinstance(patch, Mapping) and patch.get("kind") == "KubeletConfiguration":
                yield f"{where} {value.get('path', '')}".strip(), patch
        for item in value.values():
            yield from _kubelet_patches(item, where)
    elif isinstance(value, list):
        for item in value:
            yield from _kubelet_patches(item, where)


def _versions(plan: InstallPlan) -> CheckResult:
    """The version inputs, checked on the plan without the network: the version findings of
    the spec (warnings here; errors stopped the run at validation) and the 1.35 kubelet rule
    on what was rendered (a kubeadm override can undo what the provider rendered)."""
    from ..providerkit import VERSIONS_RULE

    problems: list[str] = []
    minor = plan.spec.k8s_minor
    for obj in plan.manifest:
        meta = obj.get("metadata") or {}
        where = f"{obj.get('kind')}/{meta.get('name')}"
        for at, patch in _kubelet_patches(obj.get("spec") or {}, where):
            has = KUBELET_135_KEY in patch
            if minor >= (1, 35) and not has:
                problems.append(f"{at}: Kubernetes {plan.spec.k8sVersion} needs "
                                f"\"{KUBELET_135_KEY}\": \"NeverVerify\" in the kubelet patch (1.35+)")
            elif minor < (1, 35) and has:
                problems.append(f"{at}: {KUBELET_135_KEY} is for Kubernetes 1.35+; "
                                f"{plan.spec.k8sVersion} must not have it in the kubelet patch")
    if problems:
        return CheckResult("versions", "fail", "; ".join(problems))
    found = [w for w in plan.warnings if w.rule == VERSIONS_RULE]
    if found:
        return CheckResult("versions", "warn", "; ".join(f"{w.path}: {w.message}" for w in found))
    return CheckResult("versions", "pass", f"k8sVersion {plan.spec.k8sVersion}, packages "
                       f"{plan.spec.packages.kubeadm.version} / {plan.spec.packages.provider.version}: "
                       "no version gate objects")


def _probe(probe: Probe, sandbox: Mapping[str, str], timeout: float) -> CheckResult:
    what = probe.what or probe.field
    host, port = probe.host, probe.port
    if sandbox:
        standin = sandbox.get(probe.field) or (sandbox.get("iaasEndpoint") if probe.expect == "tls" else None)
        if standin is None:
            return CheckResult(probe.name, "skip", f"{what}: the sandbox announces no stand-in for {probe.field}")
        host, port = _split(standin, port)
        what += " (sandbox stand-in)"
    if probe.expect == "free":
        return _free(probe.name, what, host, port, timeout)
    return _tls(probe.name, what, host, port, timeout)


def run_preflight(plan: InstallPlan, provider: Provider, kube: KubeClient, *,
                  skip: Iterable[str] = (), resolver: Resolver | None = None,
                  timeout: float = 3.0) -> list[CheckResult]:
    """Every check, concurrently; results in report order (skipped ones included)."""
    skipped = set(skip)
    resolve = resolver or netcheck.resolve
    try:
        sandbox = dict(standins.announcement(kube))
    except AcpInstallError:
        sandbox = {}
    spec = plan.spec
    node_registry = spec.node_registry_address
    tasks: list[tuple[str, Callable[[], CheckResult]]] = [
        ("minialauda", lambda: _minialauda(kube)),
    ]
    if sandbox:
        vip = sandbox.get("controlPlaneVIP")
        tasks.append(("vip-free", (lambda: _free("vip-free", "VIP stand-in", *_split(vip, API_PORT), timeout))
                      if vip else (lambda: CheckResult("vip-free", "skip", "the sandbox announces no VIP stand-in"))))
    else:
        tasks.append(("vip-free", lambda: _free("vip-free", "control-plane VIP", spec.controlPlaneVIP,
                                               API_PORT, timeout)))
    tasks.append(("platform-host", lambda: _platform_host(plan, resolve, sandbox)))
    local = sandbox.get("localRegistryAddress") if sandbox else spec.localRegistryAddress
    tasks.append(("local-registry", (lambda: _registry("local-registry", str(local), timeout, False))
                  if local else (lambda: CheckResult("local-registry", "skip", "no stand-in"))))
    node = sandbox.get("nodeRegistryAddress") if sandbox else node_registry
    tasks.append(("node-registry", (lambda: _registry("node-registry", str(node), timeout, True)) if node
                  else (lambda: CheckResult("node-registry", "skip",
                                            "the sandbox announces no stand-in for the node-facing registry"))))
    tasks.append(("versions", lambda: _versions(plan)))
    for probe in provider.preflight_probes(spec):
        tasks.append((probe.name, lambda probe=probe: _probe(probe, sandbox, timeout)))  # type: ignore[misc]
    unknown = sorted(skipped - {name for name, _fn in tasks})
    if unknown:
        from ..errors import UsageError

        raise UsageError(f"--skip-preflight {', '.join(unknown)}: no such check",
                         hint="checks: " + ", ".join(dict.fromkeys(name for name, _fn in tasks)))
    results: dict[int, CheckResult] = {}
    with ThreadPoolExecutor(max_workers=min(8, len(tasks))) as pool:
        futures = {}
        for i, (name, fn) in enumerate(tasks):
            if name in skipped:
                results[i] = CheckResult(name, "skip", "skipped (--skip-preflight)")
            else:
                futures[i] = pool.submit(fn)
        for i, future in futures.items():
            results[i] = future.result()
    return [results[i] for i in range(len(tasks))]


def failed(results: Iterable[CheckResult]) -> list[CheckResult]:
    return [r for r in results if r.status == "fail"]


def raise_on_failure(results: Sequence[CheckResult]) -> None:
    bad = failed(results)
    if bad:
        raise PreflightFailed(
            f"{len(bad)} preflight check(s) failed; nothing was applied:\n"
            + "\n".join(f"  - {r.name}: {r.detail}" for r in bad),
            hint="fix the site, or skip a check you know is wrong here with --skip-preflight NAME "
                 "(acp-install preflight -f SPEC runs them alone)")
