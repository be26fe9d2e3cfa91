"""Label and field selectors, parsed from the query string as kube-apiserver parses them.

Supported label syntax: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``,
``!k``, comma-separated (AND). Field selectors: ``metadata.name`` and ``metadata.namespace`` with
``=``, ``==``, ``!=`` (plus any dotted path, which kube-apiserver only allows per kind; the
sandbox is lenient there).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["SelectorError", "parse_field_selector", "parse_label_selector", "selected_name"]

Matcher = Callable[[Mapping[str, Any]], bool]

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(notin|in)\s*\(([^)]*)\)|(==|!=|=)\s*(\S*))?\s*$")


class SelectorError(ValueError):
    """The selector does not parse; the API server answers 400."""


def _split(selector: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in (x.strip() for x in parts) if p]


def _label_requirement(key: str, op: str, values: str | None, value: str | None) -> Callable[[Mapping[str, str]], bool]:
    vals = {v.strip() for v in (values or "").split(",") if v.strip()}
    if op == "in":
        return lambda lb: lb.get(key) in vals
    if op == "notin":
        return lambda lb: lb.get(key) not in vals
    if op in ("=", "=="):
        return lambda lb: lb.get(key) == value
    if op == "!=":
        return lambda lb: lb.get(key) != value
    if op == "!":
        return lambda lb: key not in lb
    return lambda lb: key in lb


def parse_label_selector(selector: str | None) -> Matcher:
    """A predicate on an object's ``metadata.labels``."""
    reqs: list[Callable[[Mapping[str, str]], bool]] = []
    for part in _split(selector or ""):
        m = _SET_RE.match(part)
        if not m:
            raise SelectorError(f"unable to parse requirement: {part!r}")
        neg, key, setop, values, op, value = m.groups()
        if neg and (setop or op):
            raise SelectorError(f"unable to parse requirement: {part!r}")
        reqs.append(_label_requirement(key, setop or op or ("!" if neg else ""), values, value))

    def match(obj: Mapping[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(r(labels) for r in reqs)

    return match


def _field(obj: Mapping[str, Any], path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, Mapping) else None
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def _field_requirement(path: str, negate: bool, value: str) -> Callable[[Mapping[str, Any]], bool]:
    if negate:
        return lambda o: _field(o, path) != value
    return lambda o: _field(o, path) == value


def _field_terms(selector: str | None) -> list[tuple[str, str, str]]:
    """``(path, op, value)`` of each requirement of a field selector."""
    terms = []
    for part in _split(selector or ""):
        m = re.match(r"^([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*)$", part)
        if not m:
            raise SelectorError(f"invalid field selector: {part!r}")
        path, op, value = m.groups()
        terms.append((path, op, value))
    return terms


def selected_name(selector: str | None) -> str | None:
    """The one name a field selector narrows to (``metadata.name=x``), or ``None``."""
    return next((v for path, op, v in _field_terms(selector) if path == "metadata.name" and op != "!="), None)


def parse_field_selector(selector: str | None) -> Matcher:
    """A predicate on fields such as ``metadata.name``."""
    reqs: list[Callable[[Mapping[str, Any]], bool]] = [
        _field_requirement(path, op == "!=", value) for path, op, value in _field_terms(selector)]

    def match(obj: Mapping[str, Any]) -> bool:
        return all(r(obj) for r in reqs)

    return match
