"""Server-side printing (``meta.k8s.io/v1 Table``), so ``kubectl get`` shows real columns.

kubectl asks for a Table and prints what it gets; the columns come from a CRD's
``additionalPrinterColumns`` (e.g. KubeadmControlPlane's READY and Cluster's PHASE), which is
what the seed's "Wait for the Control Plane" step tells the user to look at.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from .kinds import ResourceType

__all__ = ["jsonpath", "to_table", "wants_table"]

_TOKEN = re.compile(
    r"""\.(?:((?:[A-Za-z0-9_\-/]|\\\.)+))"""  # .field (with \. escapes)
    r"""|\[\?\(@\.([A-Za-z0-9_.]+)\s*==\s*["']([^"']*)["']\)\]"""  # [?(@.k=="v")]
    r"""|\[['"]((?:[^'"\\]|\\.)*)['"]\]"""  # ['key']
    r"""|\[(\d+)\]"""  # [0]
)


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def jsonpath(obj: Any, path: str) -> Any:
    """The subset of JSONPath printer columns use; None when absent or unparsable."""
    cur: Any = obj
    pos = 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m:
            return None
        field, fkey, fval, quoted, index = m.groups()
        pos = m.end()
        if field is not None or quoted is not None:
            key = (field if field is not None else quoted).replace("\\.", ".")
            cur = cur.get(key) if isinstance(cur, dict) else None
        elif fkey is not None:
            if not isinstance(cur, list):
                return None
            cur = next((x for x in cur if isinstance(x, dict) and str(jsonpath(x, "." + fkey)) == fval), None)
        else:
            i = int(index)
            cur = cur[i] if isinstance(cur, list) and i < len(cur) else None
        if cur is None:
            return None
    return cur


def _age(ts: Any) -> str:
    try:
        then = time.mktime(time.strptime(str(ts), "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    except ValueError:
        return "<unknown>"
    secs = max(int(time.time() - then), 0)
    if secs < 120:
        return f"{secs}s"
    if secs < 7200:
        return f"{secs // 60}m"
    return f"{secs // 3600}h" if secs < 172800 else f"{secs // 86400}d"


def _cell(value: Any, typ: str) -> Any:
    if value is None:
        return None
    if typ == "date":
        return value
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _column_cell(obj: dict[str, Any], column: Mapping[str, Any]) -> Any:
    if column.get("age"):
        return _age((obj.get("metadata") or {}).get("creationTimestamp"))
    if "cell" in column:
        return column["cell"](obj)
    return _cell(jsonpath(obj, column["jsonPath"]), column.get("type", "string"))


def to_table(
    rt: ResourceType, objs: Iterable[dict[str, Any]], resource_version: str = "", include_object: str = "Metadata"
) -> dict[str, Any]:
    columns = [
        {
            "name": "Name",
            "type": "string",
            "format": "name",
            "description": "Name must be unique within a namespace.",
            "priority": 0,
        }
    ]
    # A built-in kind may place Age ("age": True, as kubectl's Nodes do: AGE before VERSION) and
    # compute a cell ("cell": a function of the object, e.g. a Node's STATUS); otherwise Age is last.
    extra = [c for c in rt.printer_columns
             if c.get("jsonPath") != ".metadata.creationTimestamp" or c.get("age")]
    age_placed = any(c.get("age") for c in extra)
    for c in extra:
        columns.append(
            {
                "name": c["name"],
                "type": c.get("type", "string"),
                "format": c.get("format", ""),
                "description": c.get("description", ""),
                "priority": c.get("priority", 0),
            }
        )
    if not age_placed:
        columns.append({"name": "Age", "type": "string", "format": "", "description": "CreationTimestamp",
                        "priority": 0})
    rows = []
    for obj in objs:
        meta = obj.get("metadata") or {}
        cells = [meta.get("name", "")]
        cells += [_column_cell(obj, c) for c in extra]
        if not age_placed:
            cells.append(_age(meta.get("creationTimestamp")))
        if include_object == "Object":
            embedded: dict[str, Any] = obj
        elif include_object == "None":
            embedded = {}
        else:
            embedded = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
        row: dict[str, Any] = {"cells": cells}
        if embedded:
            row["object"] = embedded
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": columns,
        "rows": rows,
    }
