"""The new global cluster comes up with its control plane: server, kubeconfig Secret, Nodes.

Plays the part of Cluster API's control-plane provider that writes the workload cluster's
kubeconfig Secret (upstream convention: ``<cluster>-kubeconfig`` in the Cluster's namespace,
type ``cluster.x-k8s.io/secret``, key ``value``), and of the kubelets that register a Node per
Machine: once a Cluster is ``Provisioned``, its new cluster's API server is started
(:mod:`..global_cluster`) and kept in step with the Machines on every pass.
"""

from __future__ import annotations

import base64
from typing import Any

from ..api import Api
from ..errors import ApiError
from ..global_cluster import GlobalClusters
from ..kinds import BUILTIN
from ..scenarios import Scenario
from .base import Clock, Controller

__all__ = ["KUBECONFIG_KEY", "GlobalClusterController", "kubeconfig_secret_name"]

CAPI = "cluster.x-k8s.io/v1beta1"
CLUSTER_LABEL = "cluster.x-k8s.io/cluster-name"
KUBECONFIG_KEY = "value"
SECRET_TYPE = "cluster.x-k8s.io/secret"
REGISTRY_ANNOTATION = "cpaas.io/registry-address"
#: what the registry address is when a Cluster does not say (documentation range: never dialled)
DEFAULT_REGISTRY = "192.0.2.1:11443"


def kubeconfig_secret_name(cluster: str) -> str:
    return f"{cluster}-kubeconfig"


class GlobalClusterController(Controller):
    def __init__(self, api: Api, clock: Clock, scenario: Scenario, clusters: GlobalClusters) -> None:
        super().__init__(api, clock, scenario)
        self.clusters = clusters

    def reconcile(self) -> None:
        cluster_rt = self.rt(CAPI, "Cluster")
        machine_rt = self.rt(CAPI, "Machine")
        if cluster_rt is None or machine_rt is None:
            return
        items, _ = self.api.store.list(cluster_rt)
        for cluster in items:
            meta = cluster["metadata"]
            if meta.get("deletionTimestamp") or (cluster.get("status") or {}).get("phase") != "Provisioned":
                continue
            gc = self.clusters.ensure(meta["namespace"], meta["name"])
            if gc is None:
                return  # stopping
            try:
                self._secret(cluster, gc.kubeconfig())
            except ApiError:
                continue  # raced with a client; next pass
            name = meta["name"]

            def ours(o: dict[str, Any], name: str = name) -> bool:
                return bool((o["metadata"].get("labels") or {}).get(CLUSTER_LABEL) == name)

            machines, _ = self.api.store.list(machine_rt, meta["namespace"], ours)
            registry = (meta.get("annotations") or {}).get(REGISTRY_ANNOTATION) or DEFAULT_REGISTRY
            gc.sync(machines, registry)

    def _secret(self, cluster: dict[str, Any], kubeconfig: str) -> None:
        meta = cluster["metadata"]
        ns, name = meta["namespace"], kubeconfig_secret_name(meta["name"])
        secrets = next(rt for rt in BUILTIN if rt.plural == "secrets")
        live = self.api.store.try_get(secrets, ns, name)
        value = base64.b64encode(kubeconfig.encode()).decode()
        if live is not None and (live.get("data") or {}).get(KUBECONFIG_KEY) == value:
            return
        if self.held("Secret", ns, name, live):
            return
        self.api.apply_object({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": {CLUSTER_LABEL: meta["name"]},
                "ownerReferences": [{"apiVersion": cluster["apiVersion"], "kind": "Cluster", "name": meta["name"],
                                     "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}],
            },
            "type": SECRET_TYPE,
            "data": {KUBECONFIG_KEY: value},
        }, manager="kubeadm-control-plane-controller")
