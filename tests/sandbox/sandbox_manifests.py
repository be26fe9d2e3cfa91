"""Objects the sandbox tests apply: the seed's AppReleases and a valid DCS global manifest."""

from __future__ import annotations

from typing import Any

import yaml

NS = "cpaas-system"


def apprelease(release: str) -> dict[str, Any]:
    return {
        "apiVersion": "operator.alauda.io/v1alpha1",
        "kind": "AppRelease",
        "metadata": {
            "name": release,
            "namespace": NS,
            "annotations": {"auto-recycle": "true", "interval-sync": "true"},
        },
        "spec": {
            "destination": {"cluster": "", "namespace": ""},
            "source": {
                "chartPullSecret": "global-registry-auth",
                "charts": [{"name": f"ait/chart-{release}", "releaseName": release, "targetRevision": "v1.0.0"}],
                "repoURL": "172.18.0.1:11443",
            },
            "timeout": 120,
            "values": {"global": {"cluster": {"isGlobal": True, "name": "global", "type": "Baremetal"}}},
        },
    }


def cluster(infra_kind: str = "DCSCluster") -> dict[str, Any]:
    return {
        "apiVersion": "cluster.x-k8s.io/v1beta1",
        "kind": "Cluster",
        "metadata": {
            "name": "global",
            "namespace": NS,
            "labels": {"cluster-type": "DCS", "is-global": "true"},
            "annotations": {"cpaas.io/registry-address": "10.0.0.5:11443"},
        },
        "spec": {
            "clusterNetwork": {"pods": {"cidrBlocks": ["100.3.0.0/16"]}, "services": {"cidrBlocks": ["100.4.0.0/16"]}},
            "controlPlaneRef": {
                "apiVersion": "controlplane.cluster.x-k8s.io/v1beta1",
                "kind": "KubeadmControlPlane",
                "name": "global-kcp",
            },
            "infrastructureRef": {
                "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
                "kind": infra_kind,
                "name": "global",
            },
        },
    }


def kcp(replicas: int = 3, template_kind: str = "DCSMachineTemplate") -> dict[str, Any]:
    return {
        "apiVersion": "controlplane.cluster.x-k8s.io/v1beta1",
        "kind": "KubeadmControlPlane",
        "metadata": {"name": "global-kcp", "namespace": NS},
        "spec": {
            "replicas": replicas,
            "version": "v1.31.4",
            "rolloutStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0}},
            "machineTemplate": {
                "infrastructureRef": {
                    "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
                    "kind": template_kind,
                    "name": "global-cp",
                }
            },
            "kubeadmConfigSpec": {"format": "ignition"},
        },
    }


def dcs_cluster() -> dict[str, Any]:
    return {
        "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
        "kind": "DCSCluster",
        "metadata": {"name": "global", "namespace": NS},
        "spec": {
            "controlPlaneLoadBalancer": {"host": "10.0.0.10", "port": 6443, "type": "external"},
            "credentialSecretRef": {"name": "global-credentials"},
            "networkType": "kube-ovn",
        },
    }


def machine_deployment(replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "cluster.x-k8s.io/v1beta1",
        "kind": "MachineDeployment",
        "metadata": {"name": "global-md-0", "namespace": NS},
        "spec": {
            "clusterName": "global",
            "replicas": replicas,
            "selector": {"matchLabels": {}},
            "template": {
                "spec": {
                    "clusterName": "global",
                    "version": "v1.31.4",
                    "bootstrap": {
                        "configRef": {
                            "apiVersion": "bootstrap.cluster.x-k8s.io/v1beta1",
                            "kind": "KubeadmConfigTemplate",
                            "name": "global-md-0",
                        }
                    },
                    "infrastructureRef": {
                        "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
                        "kind": "DCSMachineTemplate",
                        "name": "global-worker",
                    },
                }
            },
        },
    }


def global_manifest(workers: int = 1) -> list[dict[str, Any]]:
    return [cluster(), kcp(), dcs_cluster(), machine_deployment(workers)]


def to_yaml(objs: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(objs, sort_keys=False)


INSTALLER_PAYLOAD = {
    "basic": {"username": "admin@cpaas.io", "password": "cGFzc3dvcmQ="},
    "registry": {"domain": "10.0.0.5:11443", "username": "u", "password": "cA=="},
    "console": {
        "host": ["10.0.0.10"],
        "globalHost": "acp.example.com",
        "httpPort": 80,
        "httpsPort": 443,
        "cert": {"selfSigned": {}},
    },
    "cluster": {
        "clusterCIDR": "100.3.0.0/16",
        "serviceCIDR": "100.4.0.0/16",
        "features": {"ha": {"vip": "10.0.0.10", "vport": 6443, "isThirdParty": True}},
    },
    "product": ["base", "acp"],
    "deployMode": "normal",
    "hostIP": "10.0.0.2",
}
