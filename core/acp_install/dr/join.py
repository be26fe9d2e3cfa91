"""Joining the two new global clusters of a DR pair (the seed's steps after both installs).

Three resumable steps, recorded (by name only) in ``<workdir>/.acp-install/dr-join.json``:

``etcd-sync``
    POST the ``global-etcd-sync`` ModuleInfo to the standby: its ``active_cluster_vip`` is the
    primary VIP and ``active_cluster_token`` the primary's ``k8sadmin`` token in its base64
    Secret form; the request carries the standby's decoded ``k8sadmin`` bearer token. TLS is
    verified against the standby cluster's CA from its kubeconfig (the seed's ``curl -k`` is
    never the default; ``insecure=True`` is said loudly). A ModuleInfo that exists already is
    never POSTed again (checked first, and a 409 means the same).
``restart-primary`` / ``restart-standby``
    Delete the Pods that reload DR and endpoint configuration on each side
    (:data:`RESTART_SELECTORS`); their controllers recreate them.

Tokens are read into memory only, handed to the redactor, and never written anywhere.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import ssl
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import ClusterError, DRJoinError
from ..spec.model import InstallSpec

if TYPE_CHECKING:
    from ..clients.kube import KubeClient
    from ..clients.kubeconfigs import GlobalKubeconfig
    from ..clients.redact import Redactor

__all__ = ["JOIN_STEPS", "MODULEINFO_API", "RESTART_SELECTORS", "Join",
           "moduleinfo_body"]

MODULEINFO_API = "cluster.alauda.io/v1alpha1"
MODULEINFO_NAME = "global-etcd-sync"
NAMESPACE = "cpaas-system"
#: the seed's restarts, run on both sides
RESTART_SELECTORS = ("service_name in (alertmanager,vmselect,vminsert)",
                     "service_name=cpaas-elasticsearch",
                     "service_name=cluster-transformer")
JOIN_STEPS = ("etcd-sync", "restart-primary", "restart-standby")
STATE_FILE = "dr-join.json"


def moduleinfo_body(primary_vip: str, primary_token_b64: str, version: str) -> dict[str, Any]:
    """The seed's ``global-etcd-sync`` ModuleInfo, field for field."""
    return {
        "kind": "ModuleInfo",
        "apiVersion": MODULEINFO_API,
        "metadata": {"name": MODULEINFO_NAME,
                     "labels": {"cpaas.io/cluster-name": "global",
                                "cpaas.io/module-name": "etcd-sync",
                                "cpaas.io/module-type": "plugin"}},
        "spec": {"version": version,
                 "config": {"monitor_check_interval": 1, "detail": False,
                            "active_cluster_vip": primary_vip,
                            "active_cluster_token": primary_token_b64}},
    }


def _skips_tls(kubeconfig: GlobalKubeconfig) -> bool:
    return bool(kubeconfig.cluster.get("insecure-skip-tls-verify"))


def _ca_context(kubeconfig: GlobalKubeconfig, insecure: bool) -> ssl.SSLContext | bool:
    if insecure:
        return False
    cluster = kubeconfig.cluster
    if cluster.get("insecure-skip-tls-verify"):
        raise DRJoinError(f"the standby's kubeconfig ({kubeconfig.source}) skips TLS verification: "
                          "the join would send the primary's token to an unverified server",
                          hint="use a kubeconfig with the cluster's CA, or pass --insecure on purpose")
    ctx = ssl.create_default_context()
    if cluster.get("certificate-authority-data"):
        try:
            pem = base64.b64decode(cluster["certificate-authority-data"]).decode()
            ctx.load_verify_locations(cadata=pem)
        except (binascii.Error, UnicodeDecodeError, ssl.SSLError):
            raise DRJoinError(f"{kubeconfig.source}: certificate-authority-data is not a PEM CA",
                              hint="fix the kubeconfig or pass --standby-global-kubeconfig") from None
    elif cluster.get("certificate-authority"):
        path = str(cluster["certificate-authority"])
        try:
            ctx.load_verify_locations(cafile=path)
        except (OSError, ssl.SSLError) as err:
            raise DRJoinError(f"{kubeconfig.source}: certificate-authority {path} is not a readable "
                              f"PEM CA ({err.__class__.__name__})",
                              hint="fix the path in the kubeconfig or pass --standby-global-kubeconfig") from None
    return ctx


@attrs.define
class Join:
    """The join of one pair, given each new cluster's kubeconfig.

    Args:
        primary, standby: the two sides' specs (VIPs, etcd-sync version).
        primary_kubeconfig, standby_kubeconfig: the NEW global clusters' kubeconfigs.
        workdir: where the step record lives (the standby side's work directory).
        say: one line per step, for the terminal.
        insecure: skip TLS verification of the standby's ModuleInfo API (said loudly).
    """

    primary: InstallSpec
    standby: InstallSpec
    primary_kubeconfig: GlobalKubeconfig
    standby_kubeconfig: GlobalKubeconfig
    workdir: Path
    redactor: Redactor
    say: Callable[[str], None] = print
    insecure: bool = False
    timeout: float = 30.0

    # -- state (step names only) ---------------------------------------------------------------

    @property
    def state_path(self) -> Path:
        return self.workdir / ".acp-install" / STATE_FILE

    def done(self) -> list[str]:
        try:
            data = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return []
        if not isinstance(data, dict) or (data.get("primaryVIP"), data.get("standbyVIP")) != (
                self.primary.controlPlaneVIP, self.standby.controlPlaneVIP):
            return []  # another pair's record (or none): nothing of this join is done
        steps = data.get("done")
        return [s for s in steps if s in JOIN_STEPS] if isinstance(steps, list) else []

    def _record(self, step: str) -> None:
        done = [*self.done(), step]
        self.state_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.state_path.parent, prefix=".dr-join.")
        with os.fdopen(fd, "w") as fh:
            json.dump({"done": done, "primaryVIP": self.primary.controlPlaneVIP,
                       "standbyVIP": self.standby.controlPlaneVIP}, fh)
        os.replace(tmp, self.state_path)

    # -- the steps -----------------------------------------------------------------------------

    def run(self) -> list[str]:
        """Run the steps not recorded as done; returns what this call did."""
        for side, kc in (("primary", self.primary_kubeconfig), ("standby", self.standby_kubeconfig)):
            if _skips_tls(kc) and not self.insecure:  # before any token is read over it
                raise DRJoinError(f"the {side}'s new-cluster kubeconfig ({kc.source}) skips TLS "
                                  "verification: the join would read and send k8sadmin tokens over "
                                  "an unverified connection",
                                  hint="use a kubeconfig with the cluster's CA (acp-install kubeconfig "
                                       "on that side), or pass --insecure on purpose")
        if self.insecure:
            self.say("WARNING: --insecure: the standby's TLS certificate is NOT verified; the "
                     "primary's k8sadmin token goes to whatever answers at its address")
        ran = []
        for step in JOIN_STEPS:
            if step in self.done():
                self.say(f"dr join: {step}: done earlier")
                continue
            getattr(self, "_" + step.replace("-", "_"))()
            self._record(step)
            ran.append(step)
        self.say("dr join: complete: the standby follows the primary through global-etcd-sync")
        return ran

    def _client(self, side: str) -> KubeClient:
        kc = self.primary_kubeconfig if side == "primary" else self.standby_kubeconfig
        return kc.client(redact=self.redactor)

    def _token(self, client: KubeClient, side: str) -> str:
        """The side's k8sadmin token in its base64 Secret form (added to the redactor)."""
        secret = client.get("v1", "Secret", "k8sadmin", NAMESPACE)
        token = ((secret or {}).get("data") or {}).get("token")
        if not token:
            raise ClusterError(f"the {side} cluster has no Secret {NAMESPACE}/k8sadmin with key token",
                               hint=f"is the {side} install complete? (acp-install verify on that side)")
        token = str(token)
        self.redactor.add(token)
        try:
            decoded = base64.b64decode(token, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ClusterError(f"the {side} cluster's Secret {NAMESPACE}/k8sadmin: token is not base64",
                               hint="check the Secret on a control-plane node") from None
        self.redactor.add(decoded)
        return token

    def _etcd_sync(self) -> None:
        version = self.standby.dr.etcdSyncVersion if self.standby.dr is not None else None
        if not version:
            raise DRJoinError("the standby's dr.etcdSyncVersion is not set: the ModuleInfo needs "
                              "the global-etcd-sync version of the release",
                              hint="set base.dr.etcdSyncVersion (or dr.etcdSyncVersion on the standby)")
        standby = self._client("standby")
        with standby:
            existing = standby.get(MODULEINFO_API, "ModuleInfo", MODULEINFO_NAME)
            if existing is not None:
                self._check_existing(existing)
                self.say("dr join: etcd-sync: ModuleInfo global-etcd-sync exists on the standby "
                         "(not sent again)")
                return
            bearer_b64 = self._token(standby, "standby")
        with self._client("primary") as primary:
            primary_token = self._token(primary, "primary")
        body = moduleinfo_body(self.primary.controlPlaneVIP, primary_token, version)
        self._post(body, base64.b64decode(bearer_b64).decode())
        self.say(f"dr join: etcd-sync: ModuleInfo global-etcd-sync created on the standby "
                 f"(active cluster {self.primary.controlPlaneVIP})")

    def _check_existing(self, existing: dict[str, Any]) -> None:
        vip = ((existing.get("spec") or {}).get("config") or {}).get("active_cluster_vip")
        if vip != self.primary.controlPlaneVIP:
            raise DRJoinError(f"the standby's ModuleInfo global-etcd-sync follows {vip}, not the "
                              f"primary VIP {self.primary.controlPlaneVIP}",
                              hint="check which pair this standby belongs to; delete the ModuleInfo "
                                   "on purpose (kubectl delete moduleinfo global-etcd-sync) to re-join")

    def _post(self, body: dict[str, Any], bearer: str) -> None:
        import httpx

        server = self.standby_kubeconfig.server.rstrip("/")
        url = f"{server}/apis/{MODULEINFO_API}/moduleinfoes"
        verify = _ca_context(self.standby_kubeconfig, self.insecure)
        try:
            with httpx.Client(verify=verify, timeout=self.timeout) as http:
                resp = http.post(url, json=body, headers={"Authorization": f"Bearer {bearer}"})
        except httpx.ConnectError as err:
            text = self.redactor(str(err))
            if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
                raise DRJoinError(f"TLS verification of the standby's API {server} failed: {text}",
                                  hint="the standby's kubeconfig must carry the CA of the standby "
                                       "cluster (acp-install kubeconfig on the standby's bootstrap "
                                       "host); --insecure only on purpose") from None
            raise ClusterError(f"cannot reach the standby's API {server}: {text}",
                               hint="run dr join from a host that reaches both new clusters") from None
        except httpx.HTTPError as err:
            raise ClusterError(f"ModuleInfo POST to {server} failed: {self.redactor(str(err))}",
                               hint="re-run acp-install dr join (the step is checked first)") from None
        if resp.status_code == 409:
            self.say("dr join: etcd-sync: ModuleInfo global-etcd-sync exists on the standby (409)")
            return
        if resp.status_code in (401, 403):
            raise DRJoinError(f"the standby's API refused the ModuleInfo ({resp.status_code}): the "
                              "standby's k8sadmin token was not accepted",
                              hint="check the standby's Secret cpaas-system/k8sadmin and that "
                                   "--standby-global-kubeconfig is the standby's (not retried)")
        if resp.status_code >= 300:
            raise ClusterError(f"the standby's API answered {resp.status_code} to the ModuleInfo POST: "
                               f"{self.redactor(resp.text[:300])}",
                               hint="re-run acp-install dr join (the step is checked first)")

    def _restart(self, side: str) -> None:
        with self._client(side) as client:
            deleted = 0
            for selector in RESTART_SELECTORS:
                pods, _rv = client.list("v1", "Pod", NAMESPACE, label_selector=selector)
                for pod in pods:
                    name = (pod.get("metadata") or {}).get("name")
                    if name and client.delete("v1", "Pod", str(name), NAMESPACE):
                        deleted += 1
        self.say(f"dr join: restart-{side}: {deleted} Pod(s) deleted for their controllers to "
                 "recreate (" + "; ".join(RESTART_SELECTORS) + ")")

    def _restart_primary(self) -> None:
        self._restart("primary")

    def _restart_standby(self) -> None:
        self._restart("standby")
