"""Which CRDs the sandbox can install, from the CRD directory or schemaless.

Bootstrap (what minialauda serves before Step 3): AppRelease and ClusterModule, and
cert-manager's ``cert-manager.io/v1`` kinds (the Step 3 certificate recipes apply Issuers and
Certificates *before* any provider AppRelease, so cert-manager is part of the bootstrap cluster,
not of a provider chart). Later, an AppRelease makes its chart's CRDs appear (see :mod:`.charts`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .charts import CHARTS, ChartCRDs, SchemalessKind, chart_for
from .schema import load_crd_documents

__all__ = ["BOOTSTRAP_KINDS", "Catalog", "schemaless_crd"]

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


class Catalog:
    """CRD documents by chart, read once from ``crds_dir`` (or schemaless without one)."""

    def __init__(self, crds_dir: Path | None) -> None:
        self.crds_dir = crds_dir
        if crds_dir is not None and not crds_dir.is_dir():
            raise FileNotFoundError(f"CRD directory not found: {crds_dir}")

    def bootstrap_crds(self) -> list[dict[str, Any]]:
        return [schemaless_crd(k) for k in BOOTSTRAP_KINDS]

    def chart_crds(self, chart: ChartCRDs) -> list[dict[str, Any]]:
        if self.crds_dir is None:
            return [schemaless_crd(k) for k in chart.kinds]
        path = self.crds_dir / chart.crd_dir
        return load_crd_documents(path) if path.is_dir() else []

    def crds_for_release(self, release: str) -> list[dict[str, Any]] | None:
        """CRDs an AppRelease for ``release`` installs; None when the chart is unknown."""
        chart = chart_for(release)
        return None if chart is None else self.chart_crds(chart)

    def all_crds(self) -> list[dict[str, Any]]:
        if self.crds_dir is None:
            return [c for chart in CHARTS for c in self.chart_crds(chart)]
        return load_crd_documents(self.crds_dir)
