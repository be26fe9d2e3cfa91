"""The structural-schema validator: the CRD schemas the distributions ship, and a synthetic one."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from acp_install_sandbox import installed_registry
from acp_install_sandbox.schema import CRDRegistry, FieldError

WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.io"},
    "spec": {
        "group": "example.io",
        "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "apiVersion": {"type": "string"},
                            "kind": {"type": "string"},
                            "metadata": {"type": "object"},
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1, "maximum": 10},
                                    "color": {"type": "string", "enum": ["red", "blue"]},
                                    "name": {
                                        "type": "string",
                                        "pattern": "^[a-z]+$",
                                        "maxLength": 5,
                                    },
                                    "port": {
                                        "x-kubernetes-int-or-string": True,
                                        "anyOf": [{"type": "integer"}, {"type": "string"}],
                                    },
                                    "mode": {"type": "string", "default": "fast"},
                                    "note": {"type": "string", "nullable": True},
                                    "free": {
                                        "type": "object",
                                        "x-kubernetes-preserve-unknown-fields": True,
                                    },
                                    "tags": {
                                        "type": "array",
                                        "items": {"type": "string"},
                                        "maxItems": 2,
                                        "x-kubernetes-list-type": "set",
                                    },
                                    "labels": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string"},
                                    },
                                    "when": {"type": "string", "format": "date-time"},
                                    "pool": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["ip"],
                                            "properties": {
                                                "ip": {"type": "string"},
                                                "hostname": {"type": "string"},
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    }
                },
            }
        ],
    },
}


def widget(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.io/v1",
        "kind": "Widget",
        "metadata": {"name": "w1", "namespace": "default"},
        "spec": {"size": 3, **spec},
    }


@pytest.fixture(scope="module")
def widgets() -> CRDRegistry:
    return CRDRegistry.from_crds([WIDGET_CRD])


@pytest.fixture(scope="module")
def shared() -> CRDRegistry:
    """The schemas the installed distributions ship (generated from the published CRDs)."""
    return installed_registry()


def paths(errors: list[FieldError]) -> list[str]:
    return [e.path for e in errors]


def test_valid_widget_passes(widgets: CRDRegistry) -> None:
    obj = widget(
        color="red",
        name="abc",
        port="https",
        tags=["a", "b"],
        note=None,
        free={"anything": {"goes": 1}},
        labels={"a": "b"},
        when="2024-01-01T00:00:00Z",
        pool=[{"ip": "10.0.0.1"}],
    )
    assert widgets.validate(obj) == []
    assert widgets.validate(widget(port=6443)) == []


@pytest.mark.parametrize(
    ("spec", "path", "reason"),
    [
        ({"size": "three"}, "spec.size", "FieldValueTypeInvalid"),
        ({"size": 11}, "spec.size", "FieldValueInvalid"),
        ({"size": 0}, "spec.size", "FieldValueInvalid"),
        ({"color": "green"}, "spec.color", "FieldValueNotSupported"),
        ({"name": "ABC"}, "spec.name", "FieldValueInvalid"),
        ({"name": "abcdefg"}, "spec.name", "FieldValueTooLong"),
        ({"port": 1.5}, "spec.port", "FieldValueTypeInvalid"),
        ({"tags": ["a", "a"]}, "spec.tags[1]", "FieldValueDuplicate"),
        ({"tags": ["a", "b", "c"]}, "spec.tags", "FieldValueTooMany"),
        ({"labels": {"k": 1}}, "spec.labels[k]", "FieldValueTypeInvalid"),
        ({"when": "yesterday"}, "spec.when", "FieldValueInvalid"),
        ({"pool": [{"ip": "a"}, {"hostname": "b"}]}, "spec.pool[1].ip", "FieldValueRequired"),
        ({"mode": None}, "spec.mode", "FieldValueTypeInvalid"),
        ({"bogus": 1}, "spec.bogus", "UnknownField"),
        ({"pool": [{"ip": "a", "ipp": "b"}]}, "spec.pool[0].ipp", "UnknownField"),
    ],
)
def test_each_violation_names_its_field(widgets: CRDRegistry, spec: dict[str, Any], path: str, reason: str) -> None:
    errors = widgets.validate(widget(**spec))
    assert [(e.path, e.reason) for e in errors] == [(path, reason)], errors
    assert str(errors[0]).startswith(path + ": ")


def test_missing_required(widgets: CRDRegistry) -> None:
    obj = widget()
    del obj["spec"]["size"]
    assert [(e.path, e.reason) for e in widgets.validate(obj)] == [("spec.size", "FieldValueRequired")]


def test_metadata_checks(widgets: CRDRegistry) -> None:
    obj = widget()
    obj["metadata"] = {"name": "Not_Valid", "labelz": {}}
    assert paths(widgets.validate(obj)) == ["metadata.name", "metadata.labelz"]
    obj["metadata"] = {"namespace": "default"}
    assert paths(widgets.validate(obj)) == ["metadata.name"]


def test_unknown_modes_and_defaults(widgets: CRDRegistry) -> None:
    obj = widget(bogus=1, free={"x": 1})
    assert widgets.validate(obj, unknown="prune") == []
    admitted, errors, unknown = widgets.admit(obj)
    assert errors == []
    assert unknown == ["spec.bogus"]
    assert "bogus" not in admitted["spec"]
    assert admitted["spec"]["free"] == {"x": 1}
    assert admitted["spec"]["mode"] == "fast"  # default applied
    assert obj["spec"]["bogus"] == 1  # the input is not mutated
    kept, _, _ = widgets.admit(obj, unknown="ignore")
    assert kept["spec"]["bogus"] == 1


def test_lookup_and_unknown_kind(widgets: CRDRegistry) -> None:
    v = widgets.lookup("example.io/v1", "Widget")
    assert v is not None and v.plural == "widgets" and v.namespaced and v.status_subresource
    assert widgets.by_plural("example.io", "v1", "widgets") == v
    assert widgets.lookup("example.io/v2", "Widget") is None
    errors = widgets.validate({"apiVersion": "example.io/v1", "kind": "Gadget", "metadata": {"name": "g"}})
    assert paths(errors) == ["kind"]


def test_from_dir_recursive(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    other = copy.deepcopy(WIDGET_CRD)
    other["metadata"]["name"] = "gadgets.example.io"
    other["spec"]["names"] = {"kind": "Gadget", "plural": "gadgets"}
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(WIDGET_CRD))
    (nested / "g.yaml").write_text("---\n" + yaml.safe_dump(other) + "---\nkind: ConfigMap\n")
    reg = CRDRegistry.from_dir(tmp_path)
    assert len(reg) == 2
    assert reg.lookup("example.io/v1", "Gadget") is not None


# -- the real CRDs ------------------------------------------------------------------------

CLUSTER = {
    "apiVersion": "cluster.x-k8s.io/v1beta1",
    "kind": "Cluster",
    "metadata": {
        "name": "global",
        "namespace": "cpaas-system",
        "labels": {"cluster-type": "DCS", "is-global": "true"},
    },
    "spec": {
        "clusterNetwork": {
            "pods": {"cidrBlocks": ["100.3.0.0/16"]},
            "services": {"cidrBlocks": ["100.4.0.0/16"]},
        },
        "controlPlaneRef": {
            "apiVersion": "controlplane.cluster.x-k8s.io/v1beta1",
            "kind": "KubeadmControlPlane",
            "name": "global-kcp",
        },
        "infrastructureRef": {
            "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
            "kind": "DCSCluster",
            "name": "global",
        },
    },
}

KCP = {
    "apiVersion": "controlplane.cluster.x-k8s.io/v1beta1",
    "kind": "KubeadmControlPlane",
    "metadata": {"name": "global-kcp", "namespace": "cpaas-system"},
    "spec": {
        "replicas": 3,
        "version": "v1.31.4",
        "rolloutStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0}},
        "machineTemplate": {
            "infrastructureRef": {
                "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
                "kind": "DCSMachineTemplate",
                "name": "global-cp",
            }
        },
        "kubeadmConfigSpec": {"format": "ignition"},
    },
}


def test_real_crds_loaded(shared: CRDRegistry) -> None:
    for api_version, kind in [
        ("cluster.x-k8s.io/v1beta1", "Cluster"),
        ("controlplane.cluster.x-k8s.io/v1beta1", "KubeadmControlPlane"),
        ("infrastructure.cluster.x-k8s.io/v1beta1", "DCSCluster"),
        ("elemental.cattle.io/v1beta1", "MachineInventory"),
    ]:
        assert shared.lookup(api_version, kind) is not None, kind


def test_real_valid_objects_pass(shared: CRDRegistry) -> None:
    assert shared.validate(CLUSTER) == []
    assert shared.validate(KCP) == []


def test_real_invalid_objects(shared: CRDRegistry) -> None:
    bad = copy.deepcopy(KCP)
    bad["spec"]["kubeadmConfigSpec"]["format"] = "yaml"
    bad["spec"]["replicas"] = "3"
    bad["spec"]["rolloutStrategy"]["rollingUpdate"]["maxSurgee"] = 1
    del bad["spec"]["version"]
    got = {(e.path, e.reason) for e in shared.validate(bad)}
    assert got == {
        ("spec.kubeadmConfigSpec.format", "FieldValueNotSupported"),
        ("spec.replicas", "FieldValueTypeInvalid"),
        ("spec.rolloutStrategy.rollingUpdate.maxSurgee", "UnknownField"),
        ("spec.version", "FieldValueRequired"),
    }
    bad_cluster = copy.deepcopy(CLUSTER)
    bad_cluster["spec"]["controlPlaneRef"]["nmae"] = "x"
    assert paths(shared.validate(bad_cluster)) == ["spec.controlPlaneRef.nmae"]
