"""YAML in and out, in one place.

Loading keeps the line of every key (errors point at ``file:line``); dumping is the one emitter
for every rendered object: stable key order (the order objects are built in), literal blocks for
multi-line text, and secrets resolved by :func:`resolve_secrets` before anything is written.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from .secrets import Base64Of, SecretRef, SecretText, secret_refs

LineIndex = dict[str, int]


class YamlSyntaxError(ValueError):
    """A document is not YAML; ``line`` is 1-based."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def join_path(base: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else str(key)


#: Upper bound on the nodes one document may expand to: YAML aliases can make a small file
#: expand exponentially ("billion laughs"); a spec or manifest is nowhere near this.
MAX_NODES = 200_000


def _plain(node: Any, path: str, index: LineIndex, budget: list[int] | None = None) -> Any:
    """Convert ruamel's round-trip nodes to plain data, recording the line of each path."""
    if budget is None:
        budget = [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlSyntaxError(f"document expands to more than {MAX_NODES} nodes (alias bomb?)", None)
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key, value in node.items():
            child = join_path(path, str(key))
            try:
                line, _col = node.lc.key(key)
                index[child] = line + 1
            except (KeyError, TypeError):
                pass
            out[str(key)] = _plain(value, child, index, budget)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            child = join_path(path, i)
            try:
                line, _col = node.lc.item(i)
                index[child] = line + 1
            except (KeyError, TypeError):
                pass
            items.append(_plain(value, child, index, budget))
        return items
    if isinstance(node, str):
        return str(node)
    return node


def load_all(text: str) -> list[tuple[Any, LineIndex, int]]:
    """Every document of ``text`` as (data, line index, first line)."""
    yaml = YAML(typ="rt")
    try:
        docs = list(yaml.load_all(text))
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise YamlSyntaxError(str(err.problem or err), mark.line + 1 if mark else None) from None
    out = []
    for doc in docs:
        index: LineIndex = {}
        start = (doc.lc.line + 1) if hasattr(doc, "lc") and doc.lc.line is not None else 1
        out.append((_plain(doc, "", index), index, start))
    return out


def line_of(index: LineIndex, path: str) -> int | None:
    """The line of ``path`` or of its nearest ancestor that has one."""
    while path:
        if path in index:
            return index[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None


def resolve_secrets(data: Any, *, reveal: bool) -> Any:
    """Replace secret references with their value (``reveal``) or a placeholder."""
    if isinstance(data, SecretRef):
        return data.reveal().get() if reveal else data.placeholder()
    if isinstance(data, Base64Of):
        return data.ref.reveal().b64() if reveal else data.ref.placeholder(b64=True)
    if isinstance(data, SecretText):
        return data.render(reveal=reveal)
    if isinstance(data, Mapping):
        return {k: resolve_secrets(v, reveal=reveal) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [resolve_secrets(v, reveal=reveal) for v in data]
    return data


def has_secrets(data: Any) -> bool:
    return next(secret_refs(data), None) is not None


def _literal(data: Any) -> Any:
    if isinstance(data, str) and "\n" in data:
        return LiteralScalarString(data)
    if isinstance(data, Mapping):
        return {k: _literal(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_literal(v) for v in data]
    return data


def _emitter() -> YAML:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.preserve_quotes = False
    return yaml


def dump_all(documents: Iterable[Any]) -> str:
    """Serialise documents (already secret-resolved) as one multi-document YAML stream."""
    yaml = _emitter()
    buf = io.StringIO()
    docs = [_literal(d) for d in documents]
    for doc in docs:
        buf.write("---\n")
        yaml.dump(doc, buf)
    return buf.getvalue()


def dump(document: Any) -> str:
    """Serialise one document without a leading ``---``."""
    buf = io.StringIO()
    _emitter().dump(_literal(document), buf)
    return buf.getvalue()
