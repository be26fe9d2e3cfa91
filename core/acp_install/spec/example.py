"""``acp-install init``: a commented example spec, from the procedure's defaults or the env."""

from __future__ import annotations

from collections.abc import Mapping

from ..plugins import Provider
from ..templating import render

#: Placeholder values that validate; the user replaces them.
EXAMPLE = {
    "hostIP": "192.168.1.10",
    "controlPlaneVIP": "192.168.1.100",
    "platformHost": "platform.example.com",
    "registryDomain": "platform.example.com:11443",
    "k8sVersion": "v1.34.5-3",
    "clusterCIDR": "100.3.0.0/16",
    "serviceCIDR": "100.4.0.0/16",
    "kubeOvnJoinCIDR": "",
    "ingressClassName": "global-alb2",
    "providerSecretName": "global-secret",
    "localRegistryAddress": "127.0.0.1:11443",
    "bootstrapRegistryAddress": "172.18.0.1:11443",
    "nodeRegistryAddress": "",
    "kubeadmPack": "/root/cluster-api-provider-kubeadm.amd64.v1.0.14.tgz",
    "kubeadmVersion": "v1.0.14",
    "providerPack": "/root/cluster-api-provider-{id}.amd64.v1.0.21.tgz",
    "providerVersion": "v1.0.21",
}

#: Step 1 variable -> example key (``--from-env``). Exactly the procedure's names.
ENV = {
    "HOST_IP": "hostIP",
    "CONTROL_PLANE_VIP": "controlPlaneVIP",
    "PLATFORM_HOST": "platformHost",
    "REGISTRY_DOMAIN": "registryDomain",
    "K8S_VERSION": "k8sVersion",
    "CLUSTER_CIDR": "clusterCIDR",
    "SERVICE_CIDR": "serviceCIDR",
    "KUBE_OVN_JOIN_CIDR": "kubeOvnJoinCIDR",
    "INGRESS_CLASS_NAME": "ingressClassName",
    "PROVIDER_SECRET_NAME": "providerSecretName",
    "LOCAL_REGISTRY_ADDRESS": "localRegistryAddress",
    "BOOTSTRAP_REGISTRY_ADDRESS": "bootstrapRegistryAddress",
    "NODE_REGISTRY_ADDRESS": "nodeRegistryAddress",
    "KUBEADM_PROVIDER_PACK": "kubeadmPack",
    "KUBEADM_PROVIDER_VERSION": "kubeadmVersion",
}


def example_spec(provider: Provider, env: Mapping[str, str] | None = None) -> str:
    """The commented spec text; ``env`` (e.g. ``os.environ``) overrides the example values."""
    values = {k: v.replace("{id}", provider.id) for k, v in EXAMPLE.items()}
    if env is not None:
        prefix = provider.id.upper()
        mapping = {**ENV, f"{prefix}_PROVIDER_PACK": "providerPack",
                   f"{prefix}_PROVIDER_VERSION": "providerVersion"}
        # a provider's old variable names come first, so the current name wins when both are set
        old = {a.env: a.new for a in provider.info.aliases if a.env and a.new in values}
        for var, key in [*old.items(), *mapping.items()]:
            if env.get(var):
                values[key] = env[var]
        if env.get("HOST_IP") and not env.get("NODE_REGISTRY_ADDRESS"):
            values["nodeRegistryAddress"] = ""
    example = provider.spec_example()
    platform = example.platform_yaml.rstrip("\n") if example else "platform: {}"
    old_names = {a.new: a.env for a in provider.info.aliases if a.env}
    return render("spec.yaml.j2", provider=provider.id, v=values, platform=platform,
                  old_names=old_names)
