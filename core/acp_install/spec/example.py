"""``acp-install init``: a commented example spec, from the procedure's defaults or the env."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from ..plugins import Provider
from ..records import Finding
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

#: Common fields whose example value is never a real site's (the provider adds its own).
PLACEHOLDERS = ("hostIP", "controlPlaneVIP", "platformHost", "registryDomain")
RULE = "example-value"

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


@attrs.frozen
class FromEnv:
    """What ``init --from-env`` did: the text, the variables it read, the fields left as examples."""

    text: str
    read: tuple[str, ...]
    kept: tuple[str, ...]


def example_from_env(provider: Provider, env: Mapping[str, str]) -> FromEnv:
    """``init --from-env``: the spec text, which Step 1 variables were read (in the procedure's
    order) and which fields still hold example values the user must replace."""
    read: list[str] = []
    text = example_spec(provider, env, read=read)
    from ..yamlio import load_all

    data = load_all(text)[0][0]
    kept = tuple(kept_examples(data, provider))
    return FromEnv(text, tuple(read), kept)


def example_spec(provider: Provider, env: Mapping[str, str] | None = None, *,
                 read: list[str] | None = None) -> str:
    """The commented spec text; ``env`` (e.g. ``os.environ``) overrides the example values.

    ``read``, when given, receives the names of the variables taken from ``env``.
    """
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
                if read is not None:
                    read.append(var)
        if env.get("HOST_IP") and not env.get("NODE_REGISTRY_ADDRESS"):
            values["nodeRegistryAddress"] = ""
    example = provider.spec_example()
    platform = example.platform_yaml.rstrip("\n") if example else "platform: {}"
    old_names = {a.new: a.env for a in provider.info.aliases if a.env}
    return render("spec.yaml.j2", provider=provider.id, v=values, platform=platform,
                  old_names=old_names)


_STAR = re.compile(r"^(?P<key>[^\[]*)(?P<star>\[\*\])?$")


def _at(node: Any, parts: list[str], path: str = "") -> Iterator[tuple[str, Any]]:
    """(concrete path, value) for every place a placeholder pattern names in ``node``."""
    if not parts:
        yield path, node
        return
    m = _STAR.match(parts[0])
    if m is None or not isinstance(node, Mapping) or m["key"] not in node:
        return
    key = m["key"]
    child, here = node[key], f"{path}.{key}" if path else key
    if m["star"]:
        if isinstance(child, list):
            for i, item in enumerate(child):
                yield from _at(item, parts[1:], f"{here}[{i}]")
        return
    yield from _at(child, parts[1:], here)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


_EXAMPLES: dict[str, Any] = {}


def _example_data(provider: Provider) -> tuple[Any, tuple[str, ...]]:
    """The provider's ``init`` example as data and its placeholder paths (once per process)."""
    if provider.id not in _EXAMPLES:
        from ..yamlio import load_all

        example = provider.spec_example()
        own = example.placeholders if example is not None else ()
        _EXAMPLES[provider.id] = (load_all(example_spec(provider))[0][0], (*PLACEHOLDERS, *own))
    data, paths = _EXAMPLES[provider.id]
    return data, paths


def _hits(data: Mapping[str, Any], provider: Provider) -> Iterator[tuple[str, list[tuple[str, Any]]]]:
    """(placeholder pattern, [(concrete path, value)...] still holding the example's value)."""
    example, patterns = _example_data(provider)
    for pattern in patterns:
        parts = pattern.split(".")
        samples = {_key(v) for _p, v in _at(example, parts)}
        hits = [(path, value) for path, value in _at(data, parts)
                if value is not None and _key(value) in samples]
        if hits:
            yield pattern, hits


def kept_examples(data: Mapping[str, Any], provider: Provider) -> list[str]:
    """The fields of ``data`` still holding example values: a path, or the pattern (``[*]``)
    when several items of a list do."""
    return [hits[0][0] if len(hits) == 1 else pattern for pattern, hits in _hits(data, provider)]


def example_values(data: Mapping[str, Any], provider: Provider) -> list[Finding]:
    """A warning for every placeholder field of ``data`` still holding the ``init`` example's
    value (an endpoint, a site id, a node IP...): the value names a machine that is not yours.

    One finding per field (the items of a list together, at the first one's line). Secret
    references are never placeholders (they name where a value is, not the value).
    """
    out: list[Finding] = []
    for _pattern, hits in _hits(data, provider):
        (path, value), more = hits[0], [p for p, _v in hits[1:]]
        shown = str(value) if isinstance(value, str | int | float) else ""
        shown = f" {shown[:40]}..." if len(shown) > 43 else f" {shown}" if shown else ""
        also = f" (so do {', '.join(more)})" if more else ""
        out.append(Finding(
            "warning", path, f"still holds the `acp-install init` example value{shown}{also}",
            fix="replace it with your site's value (install refuses to start while an example "
                "value is left)", rule=RULE))
    return out
