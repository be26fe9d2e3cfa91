"""Which CRDs the sandbox can install: the shipped schemas of every declared chart.

Bootstrap (what minialauda serves before Step 3): AppRelease and ClusterModule, and
cert-manager's ``cert-manager.io/v1`` kinds (the Step 3 certificate recipes apply Issuers and
Certificates *before* any provider AppRelease, so cert-manager is part of the bootstrap cluster,
not of a provider chart). Their CRDs are not published, so they are served schemaless. Later, an
AppRelease makes its chart's CRDs appear: the schemas the chart's distribution ships (see
:mod:`.provider`), or — with ``crds_dir`` — the CRD of the same name from that directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .schema import CRDRegistry, load_crd_documents

if TYPE_CHECKING:
    from .declarations import Declarations
    from .provider import Chart

__all__ = ["BOOTSTRAP_KINDS", "Catalog", "SchemalessKind", "schemaless_crd"]


@attrs.frozen
class SchemalessKind:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True


BOOTSTRAP_KINDS = (
    SchemalessKind("operator.alauda.io", "v1alpha1", "AppRelease", "appreleases"),
    SchemalessKind("cluster.alauda.io", "v1alpha1", "ClusterModule", "clustermodules", False),
    SchemalessKind("cert-manager.io", "v1", "Issuer", "issuers"),
    SchemalessKind("cert-manager.io", "v1", "ClusterIssuer", "clusterissuers", False),
    SchemalessKind("cert-manager.io", "v1", "Certificate", "certificates"),
)


def schemaless_crd(k: SchemalessKind) -> dict[str, Any]:
    """A CRD that accepts any fields (structural schema that preserves unknown fields)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{k.plural}.{k.group}", "annotations": {"acp-install.io/sandbox": "schemaless"}},
        "spec": {
            "group": k.group,
            "scope": "Namespaced" if k.namespaced else "Cluster",
            "names": {"kind": k.kind, "listKind": k.kind + "List", "plural": k.plural, "singular": k.kind.lower()},
            "versions": [
                {
                    "name": k.version,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                }
            ],
        },
    }


def _by_name(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str((d.get("metadata") or {}).get("name")): d for d in docs}


class Catalog:
    """CRD documents by chart: the declared charts' shipped schemas, ``crds_dir`` overriding."""

    def __init__(self, declarations: Declarations, crds_dir: Path | None = None) -> None:
        self.declarations = declarations
        self.crds_dir = crds_dir
        self._override: dict[str, dict[str, Any]] = {}
        if crds_dir is not None:
            if not crds_dir.is_dir():
                raise FileNotFoundError(f"CRD directory not found: {crds_dir}")
            self._override = _by_name(load_crd_documents(crds_dir))

    def bootstrap_crds(self) -> list[dict[str, Any]]:
        return [schemaless_crd(k) for k in BOOTSTRAP_KINDS]

    def chart_crds(self, chart: Chart) -> list[dict[str, Any]]:
        shipped = load_crd_documents(chart.schemas) if chart.schemas.is_dir() else []
        return [self._override.get(name, doc) for name, doc in _by_name(shipped).items()]

    def crds_for_release(self, release: str) -> list[dict[str, Any]] | None:
        """CRDs an AppRelease for ``release`` installs; None when no distribution declares it."""
        chart = self.declarations.chart_for(release)
        return None if chart is None else self.chart_crds(chart)

    def all_crds(self) -> list[dict[str, Any]]:
        return [c for chart in self.declarations.charts for c in self.chart_crds(chart)]

    def registry(self) -> CRDRegistry:
        """A registry of the bootstrap kinds and every declared chart's CRDs, to validate
        manifests offline."""
        return CRDRegistry.from_crds([*self.bootstrap_crds(), *self.all_crds()])


def installed_registry(crds_dir: str | Path | None = None) -> CRDRegistry:
    """Every CRD the installed distributions declare (``crds_dir`` overriding by name) and the
    bootstrap kinds: what a sandbox serves, to validate rendered manifests offline."""
    from .declarations import installed

    return Catalog(installed(), Path(crds_dir) if crds_dir else None).registry()
