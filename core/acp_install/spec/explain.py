"""``acp-install explain``: every spec field with its type, default and source variable."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from typing import Any

import attrs

from .model import InstallSpec

_WORDS: dict[Any, str] = {str: "string", int: "integer", bool: "boolean", float: "number",
                          Any: "any value"}


def _type_name(tp: Any) -> str:
    """The type in YAML words (``string``, ``list of mapping``, ``one of: primary, standby``,
    ``secret reference``), never a Python name: the user writes YAML."""
    import types

    from ..secrets import SecretRef

    if tp in _WORDS:
        return _WORDS[tp]
    if tp is SecretRef:
        return "secret reference ({file: PATH} or {env: NAME})"
    if isinstance(tp, type) and attrs.has(tp):
        return "mapping"
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        text = " or ".join(_type_name(a) for a in rest)
        return f"{text} or null" if len(rest) < len(args) else text
    if origin is typing.Literal:
        return "one of: " + ", ".join(str(a) for a in args)
    if origin in (list, tuple, set, frozenset) or (origin is not None and getattr(origin, "__name__", "") in (
            "Sequence", "Iterable")):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict or getattr(origin, "__name__", "") == "Mapping":
        return "mapping"
    if isinstance(tp, type):
        return tp.__name__.lower()
    return re.sub(r"[\w.]+\.(\w+)", r"\1", str(tp).replace("typing.", ""))


def _inner_attrs(tp: Any) -> type | None:
    """The attrs class inside ``tp`` (``X``, ``X | None``, ``list[X]``), if any."""
    if isinstance(tp, type) and attrs.has(tp):
        return tp
    for arg in typing.get_args(tp):
        found = _inner_attrs(arg)
        if found is not None:
            return found
    return None


def fields(cls: type, prefix: str = "") -> Iterator[tuple[str, Any, attrs.Attribute[Any]]]:
    """(path, resolved type, attribute) for every field, depth first."""
    hints = typing.get_type_hints(cls)
    for a in attrs.fields(cls):
        path = f"{prefix}.{a.name}" if prefix else a.name
        tp = hints.get(a.name, a.type)
        yield path, tp, a
        inner = _inner_attrs(tp)
        if inner is not None:
            yield from fields(inner, path + ("[]" if typing.get_origin(tp) is list else ""))


def describe(provider_id: str | None, field: str | None) -> list[str]:
    """Text rows for ``explain``; with ``provider_id`` the platform section is included."""
    rows = []
    entries = list(fields(InstallSpec))
    if provider_id:
        from ..plugins import load_provider

        platform = load_provider(provider_id).info.platform_type
        entries += list(fields(platform, "platform"))
    for path, tp, a in entries:
        if field and not (path == field or path.startswith(field + ".") or path.startswith(field + "[")):
            continue
        if path == "platform" and provider_id:
            continue
        meta = a.metadata
        if a.default is attrs.NOTHING:
            default = "required"
        elif isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
            default = "default: {}"
        else:
            default = f"default: {a.default!r}"
        line = f"{path}  ({_type_name(tp)}; {default})"
        if meta.get("env"):
            line += f"  [{meta['env']}]"
        if meta.get("doc"):
            line += f"\n    {meta['doc']}"
        rows.append(line)
    return rows
