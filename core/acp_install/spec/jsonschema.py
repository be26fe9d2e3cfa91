"""A JSON Schema of the spec, generated from the attrs classes, for editors (yaml-language-server).

It mirrors what the converter accepts: no extra keys, strict scalars, secrets as
``{file: ...}`` or ``{env: ...}``. The loader stays the authority (it also runs the rules).
"""

from __future__ import annotations

import types
import typing
from typing import Any

import attrs

from ..secrets import SecretRef
from .model import InstallSpec

SECRET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Secret reference: exactly one of file or env; never a literal value.",
    "oneOf": [
        {"required": ["file"], "properties": {"file": {"type": "string", "minLength": 1}},
         "additionalProperties": False},
        {"required": ["env"], "properties": {"env": {"type": "string", "minLength": 1}},
         "additionalProperties": False},
    ],
}


def _schema(tp: Any) -> dict[str, Any]:
    if tp is SecretRef:
        return dict(SECRET_SCHEMA)
    if isinstance(tp, type) and attrs.has(tp):
        return record_schema(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        inner = _schema(options[0]) if len(options) == 1 else {"anyOf": [_schema(a) for a in options]}
        return {"anyOf": [inner, {"type": "null"}]} if type(None) in args else inner
    if origin is list:
        return {"type": "array", "items": _schema(args[0]) if args else {}}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(args[1]) if args else {}}
    if origin is typing.Literal:
        return {"enum": list(args)}
    return {str: {"type": "string"}, int: {"type": "integer"}, bool: {"type": "boolean"},
            float: {"type": "number"}}.get(tp, {})


def record_schema(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    props: dict[str, Any] = {}
    required = []
    for a in attrs.fields(cls):
        prop = _schema(hints[a.name])
        if a.metadata.get("doc"):
            prop = {**prop, "description": a.metadata["doc"]}
        props[a.name] = prop
        if a.default is attrs.NOTHING:
            required.append(a.name)
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def spec_schema(provider_id: str | None = None, platform_type: type | None = None) -> dict[str, Any]:
    """The spec's JSON Schema; with a provider, ``platform`` is that provider's section."""
    schema = record_schema(InstallSpec)
    schema["properties"]["platform"] = _schema(platform_type) if platform_type else {"type": "object"}
    if provider_id:
        schema["properties"]["provider"] = {"const": provider_id}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"acp-install spec{' (' + provider_id + ')' if provider_id else ''}", **schema}
