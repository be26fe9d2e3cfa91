"""Builders for the Step 3, 7 and 8 artifacts (AppReleases, import ConfigMap, installer body).

Pure functions of the spec and the provider's records; the common AppRelease values and the
common installer body are the procedure's, identical for every provider. The wire values that
carry a provider's name for historical reasons (the import ConfigMap's name, the charts'
``global.cluster.type``) come from :class:`~acp_install.records.ProviderInfo`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .records import ImportEntry, InstallerPayloadPart, KubeObject, ProviderInfo, ProviderPackage
from .secrets import Base64Of
from .spec.model import InstallSpec
from .wiring import deep_merge
from .yamlio import dump

APPRELEASE_API = "operator.alauda.io/v1alpha1"
REGISTRY_AUTH_SECRET = "global-registry-auth"
DEFAULT_ADMIN = "admin@cpaas.io"


def common_values(spec: InstallSpec, info: ProviderInfo) -> dict[str, Any]:
    """The ``values.global`` block every provider AppRelease carries."""
    registry: dict[str, Any] = {"address": spec.bootstrapRegistryAddress}
    if spec.credentials.uses_pull_secret:
        registry["imagePullSecrets"] = [REGISTRY_AUTH_SECRET]
    return {
        "global": {
            "albName": spec.ingressClassName,
            "auth": {"default_admin": DEFAULT_ADMIN},
            # a chart-internal classifier the provider declares (not its IaaS name)
            "cluster": {"isGlobal": True, "name": "global", "networkType": "kube-ovn",
                        "type": info.chart_cluster_type},
            "host": spec.platformHost,
            "ingress": {"ingressClassName": spec.ingressClassName},
            "labelBaseDomain": "cpaas.io",
            "namespace": spec.namespace,
            "platformUrl": f"https://{spec.platformHost}",
            "protectSecretFiles": {"enabled": False},
            "region": "global",
            "registry": registry,
            "replicas": 1,
            "scheme": "https",
        }
    }


def apprelease(spec: InstallSpec, info: ProviderInfo, pkg: ProviderPackage) -> KubeObject:
    """One AppRelease exactly as Step 3 writes it."""
    source: dict[str, Any] = {}
    if spec.credentials.uses_pull_secret:
        source["chartPullSecret"] = REGISTRY_AUTH_SECRET
    source["charts"] = [{"name": pkg.chart, "releaseName": pkg.release_name,
                         "targetRevision": pkg.version}]
    source["repoURL"] = spec.bootstrapRegistryAddress
    return {
        "apiVersion": APPRELEASE_API,
        "kind": "AppRelease",
        "metadata": {
            "annotations": {"auto-recycle": "true", "interval-sync": "true"},
            "name": pkg.release_name,
            "namespace": spec.namespace,
        },
        "spec": {
            "destination": {"cluster": "", "namespace": ""},
            "source": source,
            "timeout": 120,
            "values": deep_merge(common_values(spec, info), pkg.values),
        },
    }


def extra_resources_configmap(spec: InstallSpec, info: ProviderInfo,
                              entries: Sequence[ImportEntry]) -> KubeObject:
    """The Step 7 import ConfigMap, named as the provider declares (the name is historical)."""
    body = dump({"resources": [e.as_dict() for e in entries]})
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": info.import_configmap, "namespace": spec.namespace},
        "data": {"resources.yaml": body},
    }


def console_cert(spec: InstallSpec) -> dict[str, Any]:
    """``console.cert``: the installer's self-signed certificate, or ``thirdParty`` with the
    base64 of each file you bring (key names from ``console.cert.thirdParty.keys``)."""
    tp = spec.console.cert.thirdParty
    if tp is None:
        return {"selfSigned": {}}
    body: dict[str, Any] = {tp.keys.certificate: Base64Of(tp.certificate),
                            tp.keys.privateKey: Base64Of(tp.privateKey)}
    if tp.pkcs12 is not None and tp.keys.pkcs12:
        body[tp.keys.pkcs12] = tp.pkcs12  # already base64: the bundle is binary (see the field)
    return {"thirdParty": body}


def installer_payload(spec: InstallSpec, part: InstallerPayloadPart) -> dict[str, Any]:
    """The Step 8 request body; passwords are base64 of the secret, as the installer expects."""
    registry: dict[str, Any] = {"domain": part.registry_domain or spec.registryDomain}
    if spec.credentials.registry is not None:
        registry["username"] = spec.credentials.registry.username
        registry["password"] = Base64Of(spec.credentials.registry.password)
    body: dict[str, Any] = {
        "basic": {"username": spec.credentials.admin.username,
                  "password": Base64Of(spec.credentials.admin.password)},
        "registry": registry,
        "console": {
            "host": list(part.console_hosts),
            "globalHost": spec.platformHost,
            "httpPort": 80,
            "httpsPort": 443,
            "cert": console_cert(spec),
        },
    }
    if part.cluster:
        cluster: dict[str, Any] = {"clusterCIDR": spec.clusterCIDR, "serviceCIDR": spec.serviceCIDR}
        if part.ha is not None:
            cluster["features"] = {"ha": {"vip": part.ha.vip, "vport": part.ha.vport,
                                          "isThirdParty": part.ha.is_third_party}}
        body["cluster"] = cluster
    body["product"] = ["base", "acp"]
    body["deployMode"] = "normal"
    body["hostIP"] = spec.hostIP
    return body
