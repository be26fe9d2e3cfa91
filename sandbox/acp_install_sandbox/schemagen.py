"""Generate the structural CRD schemas a distribution ships, from a directory of CRD YAML.

Why: the sandbox validates every custom resource against the schema of its kind, and a fresh
clone (or a user's machine) has no copy of the published CRD files. Each provider distribution
therefore ships the CRDs of its chart as compact JSON — descriptions stripped (they are 80 % of
the bytes and no validation rule reads them), everything a structural schema checks kept — plus
``PROVENANCE.json`` naming the source file and its SHA-256 for every generated file, so anyone can
regenerate and compare::

    python -m acp_install_sandbox.schemagen CRD_DIR OUT_DIR --source "vendor-docs@fd4d43f:docs/shared/crds/x"

The output is deterministic (sorted keys, one file per CRD, no timestamps).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

__all__ = ["PROVENANCE", "generate", "main", "strip_descriptions"]

PROVENANCE = "PROVENANCE.json"
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Keys whose value is one schema, or a list of schemas, or a map of name -> schema.
_ONE = ("items", "additionalProperties", "not")
_LIST = ("allOf", "anyOf", "oneOf")
_MAP = ("properties", "patternProperties", "definitions")


def strip_descriptions(schema: Any) -> Any:
    """A copy of an OpenAPI v3 schema without ``description`` annotations.

    Walks schema positions only: a *field* called ``description`` (a key of ``properties``)
    is data and stays.
    """
    if isinstance(schema, list):  # "items" may be a list of schemas
        return [strip_descriptions(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "description":
            continue
        if key in _ONE and isinstance(value, (dict, list)):
            out[key] = strip_descriptions(value)
        elif key in _LIST and isinstance(value, list):
            out[key] = [strip_descriptions(s) for s in value]
        elif key in _MAP and isinstance(value, dict):
            out[key] = {name: strip_descriptions(s) for name, s in value.items()}
        else:
            out[key] = value
    return out


def _structural(crd: dict[str, Any]) -> dict[str, Any]:
    spec = dict(crd.get("spec") or {})
    versions = []
    for v in spec.get("versions") or []:
        v = dict(v)
        schema = (v.get("schema") or {}).get("openAPIV3Schema")
        if schema is not None:
            v["schema"] = {"openAPIV3Schema": strip_descriptions(schema)}
        versions.append(v)
    spec["versions"] = versions
    return {
        "apiVersion": crd.get("apiVersion", "apiextensions.k8s.io/v1"),
        "kind": "CustomResourceDefinition",
        "metadata": {"name": (crd.get("metadata") or {})["name"]},
        "spec": spec,
    }


def _crds(path: Path) -> Iterable[dict[str, Any]]:
    for doc in yaml.load_all(path.read_text(encoding="utf-8"), _Loader):
        if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
            yield doc


def generate(crd_dir: Path, out_dir: Path, source: str = "") -> list[Path]:
    """Write one ``<crd name>.json`` per CRD found under ``crd_dir`` and ``PROVENANCE.json``.

    Files of an earlier generation that no longer have a source are removed, so the folder
    always equals what the source directory holds.
    """
    if not crd_dir.is_dir():
        raise FileNotFoundError(f"CRD directory not found: {crd_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    files: dict[str, dict[str, str]] = {}
    for path in sorted(p for p in crd_dir.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        for crd in _crds(path):
            target = out_dir / f"{crd['metadata']['name']}.json"
            target.write_text(json.dumps(_structural(crd), sort_keys=True, separators=(",", ":")) + "\n")
            files[target.name] = {"from": path.relative_to(crd_dir).as_posix(), "sha256": digest}
            written.append(target)
    for stale in out_dir.glob("*.json"):
        if stale.name != PROVENANCE and stale.name not in files:
            stale.unlink()
    provenance = {
        "generator": "python -m acp_install_sandbox.schemagen",
        "note": "descriptions stripped; every other field of each CRD kept as published",
        "source": source,
        "files": dict(sorted(files.items())),
    }
    (out_dir / PROVENANCE).write_text(json.dumps(provenance, indent=2, sort_keys=True) + "\n")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acp_install_sandbox.schemagen", description=__doc__.split("\n")[0])
    parser.add_argument("crd_dir", type=Path, help="directory of CRD YAML files (searched recursively)")
    parser.add_argument("out_dir", type=Path, help="the distribution's schema folder")
    parser.add_argument("--source", default="", help="where the CRD files come from (recorded in PROVENANCE.json)")
    args = parser.parse_args(argv)
    try:
        written = generate(args.crd_dir, args.out_dir, args.source)
    except (OSError, yaml.YAMLError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{len(written)} CRD schema(s) written to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
