"""Building specs for tests: start from `acp-install init` output and change one thing."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from acp_install import load_provider
from acp_install.spec.example import example_spec
from acp_install.yamlio import dump, load_all


def example(provider_id: str) -> dict[str, Any]:
    """The provider's `init` example as data (deep copy: tests mutate it)."""
    text = example_spec(load_provider(provider_id))
    return copy.deepcopy(load_all(text)[0][0])


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(dump(data))
    return path


def setpath(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """Set ``a.b[2].c`` in ``data`` (in place); value ``DELETE`` removes the key."""
    node: Any = data
    parts = dotted.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last = parts[-1]
    if value is DELETE:
        del node[int(last) if isinstance(node, list) else last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


DELETE = object()


def render(tmp_path: Path, data: dict[str, Any], *extra: str) -> Path:
    """``acp-install render`` of ``data`` into ``tmp_path/out`` (asserting success)."""
    from acp_install.cli.main import main

    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "out"
    spec = write(tmp_path / "spec.yaml", data)
    assert main(["render", "-f", str(spec), "-o", str(out), *extra]) == 0
    return out


def files_of(out: Path) -> dict[str, bytes]:
    """Every rendered file by its path relative to ``out``, sorted: for golden and determinism checks."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]
