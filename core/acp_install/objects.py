"""Small builders every provider needs when it turns its spec section into objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .records import ProviderPackage
from .spec.model import InstallSpec


def crd_data(value: Any) -> Any:
    """An attrs record (or list of them) as CRD data, dropping unset (``None``) fields.

    Spec records whose field names are the CRD's become the object body directly.
    """
    if attrs.has(type(value)):
        return {f.name: crd_data(getattr(value, f.name)) for f in attrs.fields(type(value))
                if getattr(value, f.name) is not None}
    if isinstance(value, list):
        return [crd_data(v) for v in value]
    return value


def object_meta(spec: InstallSpec, name: str, **extra: Any) -> dict[str, Any]:
    """``metadata`` of a global-cluster object: name, the install namespace, anything else."""
    return {"name": name, "namespace": spec.namespace, **extra}


def secret_object(spec: InstallSpec, name: str, string_data: Mapping[str, Any], *,
                  type: str = "Opaque", **meta: Any) -> dict[str, Any]:
    """A ``Secret`` of the install namespace holding ``string_data`` (credentials, keys, configs).

    Values may be :class:`~acp_install.secrets.SecretRef` or ``SecretText``: they stay references
    in the plan and are resolved only where the Secret is written or applied.
    """
    return {"apiVersion": "v1", "kind": "Secret", "metadata": object_meta(spec, name, **meta),
            "type": type, "stringData": dict(string_data)}


def provider_package(spec: InstallSpec, release_name: str, *wait_crds: str,
                     **options: Any) -> ProviderPackage:
    """The infrastructure provider's package as Step 3 delivers it: chart ``ait/chart-<release>``,
    version and tarball from ``spec.packages.provider``."""
    return ProviderPackage(release_name=release_name, chart=f"ait/chart-{release_name}",
                           version=spec.packages.provider.version,
                           tarball=spec.packages.provider.path, wait_crds=wait_crds, **options)
