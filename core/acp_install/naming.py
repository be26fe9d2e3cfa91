"""The global naming convention, as code.

Rules (procedure, "Naming Convention (Required)"):

* ``Cluster`` and the infrastructure cluster it references are named exactly ``global``:
  cpaas-installer looks them up by literal name.
* Every other Cluster API or provider object is named ``global-...``: DR failover uses the
  prefix to recognise objects owned by the global cluster.
* Every cross-reference resolves to an object of the manifest.
* Everything lives in ``cpaas-system``.

The checker works on any list of objects — a rendered plan or a hand-written manifest
(``acp-install lint``) — and knows no provider: which objects are "provider objects" is read
from their API group, and which is the infrastructure cluster from ``Cluster.spec.infrastructureRef``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

from .records import Finding

GLOBAL = "global"
PREFIX = "global-"
NAMESPACE = "cpaas-system"
CAPI_GROUP_SUFFIX = "cluster.x-k8s.io"
#: Cluster API's own groups: all their kinds are namespaced.
CAPI_CORE_GROUPS = frozenset({CAPI_GROUP_SUFFIX, "controlplane.cluster.x-k8s.io",
                              "bootstrap.cluster.x-k8s.io"})

WHY_GLOBAL = (
    "cpaas-installer looks it up by the literal name 'global': a different name silently "
    "breaks registry pull, DR etcd-sync and the web console"
)
WHY_PREFIX = (
    "DR failover recognises global-cluster objects by the 'global-' prefix: without it the "
    "cluster installs and runs, then the standby's machines are deleted at the first failover"
)

Locate = Callable[[int, str], "int | None"]


def group_of(obj: Mapping[str, Any]) -> str:
    api_version = str(obj.get("apiVersion", ""))
    return api_version.split("/")[0] if "/" in api_version else ""


def is_owned(obj: Mapping[str, Any], extra_groups: Collection[str] = ()) -> bool:
    """Whether the object is a Cluster API or provider object subject to the naming rule.

    ``extra_groups`` are the API groups providers declare in ``ProviderInfo.owned_api_groups``.
    """
    group = group_of(obj)
    return group == CAPI_GROUP_SUFFIX or group.endswith("." + CAPI_GROUP_SUFFIX) or group in extra_groups


def _name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata")
    return str(meta.get("name", "")) if isinstance(meta, Mapping) else ""


def label(obj: Mapping[str, Any]) -> str:
    return f"{obj.get('kind', '?')}/{_name(obj) or '?'}"


def _refs(node: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every ``...Ref`` mapping with a name under ``node`` (ownerReferences excluded)."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            child = f"{path}.{key}"
            if key.endswith("Ref") and isinstance(value, Mapping) and "name" in value:
                yield child, value
            else:
                yield from _refs(value, child)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _refs(value, f"{path}[{i}]")


def infra_cluster_names(objects: Sequence[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """(kind, name) of infrastructure clusters: referenced by a Cluster, or ``*Cluster`` kinds."""
    found = set()
    for obj in objects:
        if obj.get("kind") == "Cluster" and group_of(obj) == CAPI_GROUP_SUFFIX:
            ref = ((obj.get("spec") or {}).get("infrastructureRef")) or {}
            if ref.get("kind"):
                found.add((str(ref["kind"]), str(ref.get("name", ""))))
    return found


def _is_infra_cluster(obj: Mapping[str, Any], referenced_kinds: set[str]) -> bool:
    kind = str(obj.get("kind", ""))
    if kind in referenced_kinds:
        return True
    return group_of(obj).startswith("infrastructure.") and kind.endswith("Cluster")


def check(objects: Sequence[Mapping[str, Any]], locate: Locate | None = None,
          extra_groups: Collection[str] = ()) -> list[Finding]:
    """Every naming-convention violation in ``objects`` (all errors)."""
    findings: list[Finding] = []

    def add(i: int, field: str, message: str, fix: str, rule: str) -> None:
        line = locate(i, field) if locate else None
        findings.append(Finding("error", f"{label(objects[i])} {field}", message, fix=fix,
                                line=line, rule=rule))

    for i, obj in enumerate(objects):
        for part in ("metadata", "spec"):
            if part in obj and not isinstance(obj[part], Mapping):
                add(i, part, f"{part} must be a mapping, not {type(obj[part]).__name__}",
                    f"fix the {part} block", "shape")
    objects = [o if all(isinstance(o.get(p, {}), Mapping) for p in ("metadata", "spec")) else {}
               for o in objects]
    referenced_kinds = {kind for kind, _ in infra_cluster_names(objects)}
    referenced = {(str(ref.get("kind", "")), str(ref.get("name", ""))) for o in objects
                  if group_of(o) in CAPI_CORE_GROUPS for _p, ref in _refs(o.get("spec"), "spec")}
    names = {(str(o.get("kind", "")), _name(o)) for o in objects}
    by_name = {_name(o) for o in objects}
    for i, obj in enumerate(objects):
        if not is_owned(obj, extra_groups):
            continue
        name = _name(obj)
        kind = str(obj.get("kind", ""))
        ns = (obj.get("metadata") or {}).get("namespace")
        if ns is not None and ns != NAMESPACE:
            add(i, "metadata.namespace", f"namespace {ns!r}: global-cluster objects live in "
                f"{NAMESPACE}", f"set metadata.namespace: {NAMESPACE}", "namespace")
        elif ns is None and (group_of(obj) in CAPI_CORE_GROUPS or (kind, name) in referenced):
            add(i, "metadata.namespace", "no namespace: kubectl apply would put it in the "
                f"current namespace, not {NAMESPACE}", f"set metadata.namespace: {NAMESPACE}",
                "namespace")
        if (kind == "Cluster" and group_of(obj) == CAPI_GROUP_SUFFIX) or _is_infra_cluster(
            obj, referenced_kinds
        ):
            if name != GLOBAL:
                add(i, "metadata.name", f"{kind} must be named exactly 'global' ({WHY_GLOBAL})",
                    "set metadata.name: global", "global-name")
        elif not name.startswith(PREFIX):
            add(i, "metadata.name", f"{name!r} lacks the 'global-' prefix ({WHY_PREFIX})",
                f"rename it to global-{name} and update every reference to it", "global-prefix")
        for path, ref in _refs(obj.get("spec"), "spec"):
            target = str(ref.get("name", ""))
            ref_kind = ref.get("kind")
            ok = (str(ref_kind), target) in names if ref_kind else target in by_name
            if not ok:
                what = f"{ref_kind}/{target}" if ref_kind else target
                add(i, f"{path}.name", f"references {what}, which is not in the manifest",
                    "point the reference at the rendered object's exact name", "dangling-ref")
        if kind == "MachineDeployment":
            md_spec = obj.get("spec") or {}
            template_spec = ((md_spec.get("template") or {}).get("spec") or {})
            for field, value in (("spec.clusterName", md_spec.get("clusterName")),
                                 ("spec.template.spec.clusterName", template_spec.get("clusterName"))):
                if value != GLOBAL:
                    add(i, field, f"clusterName is {value!r}", f"set {field}: global", "global-name")
    return findings
