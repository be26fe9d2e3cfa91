"""The CRD schemas each distribution ships are exactly what ``schemagen`` makes of the
published CRDs, and each distribution declares them to the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acp_install_sandbox.declarations import installed
from acp_install_sandbox.schemagen import PROVENANCE, generate, strip_descriptions

from support import ROOT, SHARED, needs_shared

#: shipped schema folder -> the published CRD folder it is generated from (../shared/crds layout)
SOURCES = {
    "sandbox/acp_install_sandbox/crds": "cluster_api",
    "plugins/dcs/acp_install_dcs/crds": "providers/huawei-dcs",
    "plugins/vsphere/acp_install_vsphere/crds": "providers/vmware-vsphere",
    "plugins/hcs/acp_install_hcs/crds": "providers/huawei-cloud-stack",
    "plugins/baremetal/acp_install_baremetal/crds": "providers/bare-metal",
}


@needs_shared
@pytest.mark.parametrize("shipped", sorted(SOURCES))
def test_shipped_schemas_regenerate_identically(shipped: str, tmp_path: Path) -> None:
    source = SHARED / "crds" / SOURCES[shipped]
    recorded = json.loads((ROOT / shipped / PROVENANCE).read_text())
    generate(source, tmp_path, recorded["source"])
    ours = sorted(p.name for p in (ROOT / shipped).iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ours
    for name in ours:
        assert (tmp_path / name).read_text() == (ROOT / shipped / name).read_text(), name


@pytest.mark.parametrize("shipped", sorted(SOURCES))
def test_every_shipped_schema_has_provenance_and_is_declared(shipped: str) -> None:
    folder = ROOT / shipped
    recorded = json.loads((folder / PROVENANCE).read_text())
    files = sorted(p.name for p in folder.glob("*.json") if p.name != PROVENANCE)
    assert files and sorted(recorded["files"]) == files
    assert all(len(entry["sha256"]) == 64 for entry in recorded["files"].values())
    declared = {c.schemas.resolve() for c in installed().charts}
    assert folder.resolve() in declared


def test_strip_descriptions_keeps_a_field_called_description() -> None:
    schema = {"type": "object", "description": "drop me",
              "properties": {"description": {"type": "string", "description": "drop me too"},
                             "list": {"type": "array", "items": {"type": "string", "description": "x"}}},
              "anyOf": [{"description": "x", "required": ["list"]}]}
    assert strip_descriptions(schema) == {
        "type": "object",
        "properties": {"description": {"type": "string"}, "list": {"type": "array", "items": {"type": "string"}}},
        "anyOf": [{"required": ["list"]}]}


def test_generate_removes_stale_files(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "a.yaml").write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: widgets.example.com}\nspec: {group: example.com, versions: []}\n")
    out.mkdir()
    (out / "gone.example.com.json").write_text("{}")
    written = generate(src, out, "test")
    assert [p.name for p in written] == ["widgets.example.com.json"]
    assert sorted(p.name for p in out.iterdir()) == [PROVENANCE, "widgets.example.com.json"]
