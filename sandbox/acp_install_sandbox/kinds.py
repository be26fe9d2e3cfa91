"""Which resources the sandbox serves: the built-in kinds plus every registered CRD.

One table answers discovery, URL routing and OpenAPI, so a CRD created through the API appears in
all three at once, exactly as on a real API server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .schema import CRDRegistry, CRDVersion

__all__ = ["BUILTIN", "CRD_RESOURCE", "Kinds", "ResourceType"]

_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@attrs.frozen
class ResourceType:
    """One servable resource (e.g. ``cluster.x-k8s.io/v1beta1 clusters``)."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    status_subresource: bool = False
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    printer_columns: tuple[Mapping[str, Any], ...] = attrs.field(default=(), eq=False)
    custom: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def key(self) -> tuple[str, str]:
        """Storage identity: one bucket per (group, plural), whatever the version."""
        return (self.group, self.plural)

    def discovery_entries(self) -> list[dict[str, Any]]:
        entry: dict[str, Any] = {
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(_VERBS),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        out = [entry]
        if self.status_subresource:
            out.append(
                {
                    "name": f"{self.plural}/status",
                    "singularName": "",
                    "namespaced": self.namespaced,
                    "kind": self.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        return out


def _core(kind: str, plural: str, namespaced: bool = True, **kw: Any) -> ResourceType:
    return ResourceType("", "v1", kind, plural, kind.lower(), namespaced, **kw)


CRD_RESOURCE = ResourceType(
    "apiextensions.k8s.io",
    "v1",
    "CustomResourceDefinition",
    "customresourcedefinitions",
    "customresourcedefinition",
    False,
    status_subresource=True,
    short_names=("crd", "crds"),
    categories=("api-extensions",),
    printer_columns=({"name": "Created At", "type": "date", "jsonPath": ".metadata.creationTimestamp"},),
)

ROLE_LABEL_PREFIX = "node-role.kubernetes.io/"


def node_status(node: Mapping[str, Any]) -> str:
    """kubectl's STATUS of a Node: the Ready condition as Ready/NotReady/Unknown, plus
    ``SchedulingDisabled`` when cordoned — not the condition's raw ``True``."""
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if isinstance(c, Mapping) and c.get("type") == "Ready"), None)
    status = "Unknown" if ready is None else "Ready" if ready.get("status") == "True" else "NotReady"
    if (node.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    return status


def node_roles(node: Mapping[str, Any]) -> str:
    """kubectl's ROLES of a Node: the ``node-role.kubernetes.io/<role>`` labels (and the older
    ``kubernetes.io/role`` value), sorted and comma-joined, ``<none>`` without any."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    roles = {k[len(ROLE_LABEL_PREFIX):] for k in labels if k.startswith(ROLE_LABEL_PREFIX)}
    if labels.get("kubernetes.io/role"):
        roles.add(str(labels["kubernetes.io/role"]))
    roles.discard("")
    return ",".join(sorted(roles)) or "<none>"


BUILTIN: tuple[ResourceType, ...] = (
    _core(
        "Namespace",
        "namespaces",
        False,
        status_subresource=True,
        short_names=("ns",),
        printer_columns=({"name": "Status", "type": "string", "jsonPath": ".status.phase"},),
    ),
    _core("Secret", "secrets", printer_columns=({"name": "Type", "type": "string", "jsonPath": ".type"},)),
    _core("ConfigMap", "configmaps", short_names=("cm",)),
    _core(
        "Pod",
        "pods",
        status_subresource=True,
        short_names=("po",),
        categories=("all",),
        printer_columns=(
            {"name": "Status", "type": "string", "jsonPath": ".status.phase"},
            {"name": "IP", "type": "string", "jsonPath": ".status.podIP", "priority": 1},
        ),
    ),
    _core(
        "Event",
        "events",
        short_names=("ev",),
        printer_columns=(
            {"name": "Type", "type": "string", "jsonPath": ".type"},
            {"name": "Reason", "type": "string", "jsonPath": ".reason"},
            {"name": "Object", "type": "string", "jsonPath": ".involvedObject.name"},
            {"name": "Message", "type": "string", "jsonPath": ".message"},
        ),
    ),
    _core("ServiceAccount", "serviceaccounts", short_names=("sa",)),
    _core(
        "Node",
        "nodes",
        False,
        status_subresource=True,
        short_names=("no",),
        # kubectl's own columns for Nodes (NAME STATUS ROLES AGE VERSION): the apiserver computes
        # STATUS and ROLES, they are not a field, so the cells come from functions (table.py)
        printer_columns=(
            {"name": "Status", "type": "string", "cell": node_status,
             "description": "Ready, NotReady or Unknown (the Ready condition), SchedulingDisabled"},
            {"name": "Roles", "type": "string", "cell": node_roles,
             "description": "The node-role.kubernetes.io/<role> labels"},
            {"name": "Age", "type": "string", "jsonPath": ".metadata.creationTimestamp", "age": True},
            {"name": "Version", "type": "string", "jsonPath": ".status.nodeInfo.kubeletVersion"},
        ),
    ),
    _core("Service", "services", status_subresource=True, short_names=("svc",), categories=("all",)),
    CRD_RESOURCE,
)


def from_crd_version(v: CRDVersion) -> ResourceType:
    return ResourceType(
        v.group,
        v.version,
        v.kind,
        v.plural,
        v.singular,
        v.namespaced,
        status_subresource=v.status_subresource,
        short_names=v.short_names,
        categories=v.categories,
        printer_columns=v.printer_columns,
        custom=True,
    )


class Kinds:
    """Built-in resources plus the resources of the CRDs in ``crds`` (live view)."""

    def __init__(self, crds: CRDRegistry) -> None:
        self.crds = crds

    def all(self) -> list[ResourceType]:
        return list(BUILTIN) + [from_crd_version(v) for v in self.crds.versions()]

    def by_path(self, group: str, version: str, plural: str) -> ResourceType | None:
        for rt in BUILTIN:
            if (rt.group, rt.version, rt.plural) == (group, version, plural):
                return rt
        v = self.crds.by_plural(group, version, plural)
        return from_crd_version(v) if v else None

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        for rt in BUILTIN:
            if (rt.api_version, rt.kind) == (api_version, kind):
                return rt
        v = self.crds.lookup(api_version, kind)
        return from_crd_version(v) if v else None

    def groups(self) -> dict[str, list[str]]:
        """group -> served versions (core group is "")."""
        out: dict[str, list[str]] = {}
        for rt in self.all():
            versions = out.setdefault(rt.group, [])
            if rt.version not in versions:
                versions.append(rt.version)
        for versions in out.values():
            versions.sort(key=_version_priority)
        return out

    def resources(self, group: str, version: str) -> list[ResourceType]:
        return [rt for rt in self.all() if rt.group == group and rt.version == version]

    def fingerprint(self) -> str:
        """Changes whenever the served set changes (OpenAPI hashes, discovery caching)."""
        import hashlib

        text = "|".join(sorted(f"{r.api_version}/{r.plural}/{r.status_subresource}" for r in self.all()))
        return hashlib.sha256(text.encode()).hexdigest()[:16].upper()


def _version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes version ordering: GA > beta > alpha, higher numbers first."""
    import re

    m = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", version)
    if not m:
        return (3, 0, 0)
    major, level, minor = m.groups()
    rank = {"alpha": 2, "beta": 1, None: 0}[level]
    return (rank, -int(major), -int(minor or 0))
