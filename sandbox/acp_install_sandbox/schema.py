"""Structural-schema validation of custom resources, the way kube-apiserver does it.

Why this exists: acp-install renders Cluster API and provider objects; a wrong type, a typo'd
field or a missing required field only surfaces when a real API server rejects (or silently
prunes) it. This module reads the published CRDs and checks an object against its version's
``openAPIV3Schema`` with the same rules a structural schema enforces: types, ``required``,
``enum``, ``pattern``, bounds, ``nullable``, ``x-kubernetes-int-or-string``,
``x-kubernetes-preserve-unknown-fields``, list-type uniqueness, cheap formats, defaults, and
unknown fields (which the API server prunes; renderer tests want them reported, hence
``unknown="error"``). CEL rules (``x-kubernetes-validations``) are not evaluated.

Used by the sandbox API server (admission of custom resources) and by anyone checking rendered
manifests offline::

    registry = CRDRegistry.from_dir("path/to/crds")      # or acp_install_sandbox.installed_registry()
    for err in registry.validate(obj):
        print(err)            # spec.controlPlaneRef.name: Required value
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import ipaddress
import json
import os
import re
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs
import yaml

from .data import clone

__all__ = [
    "CRDRegistry",
    "CRDVersion",
    "FieldError",
    "UnknownMode",
    "load_crd_documents",
    "validate_object_meta",
]

UnknownMode = Literal["error", "prune", "ignore"]

# ObjectMeta fields a client may send; anything else under metadata is an unknown field.
_OBJECT_META_FIELDS = frozenset(
    {
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    }
)
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUALIFIED_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)


@attrs.frozen
class FieldError:
    """One problem with one field, named by its path as the API server names it.

    ``reason`` is the Kubernetes ``StatusCause.reason`` (``FieldValueRequired``,
    ``FieldValueInvalid``, ``FieldValueNotSupported``, ``FieldValueTypeInvalid``,
    ``FieldValueDuplicate``, ``FieldValueTooLong``, ``FieldValueTooMany``) or ``UnknownField``.
    """

    path: str
    message: str
    reason: str = "FieldValueInvalid"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@attrs.frozen
class CRDVersion:
    """One served version of one CRD: what the API server needs to serve and check its kind."""

    crd_name: str
    group: str
    version: str
    kind: str
    list_kind: str
    plural: str
    singular: str
    scope: str  # "Namespaced" or "Cluster"
    short_names: tuple[str, ...]
    categories: tuple[str, ...]
    schema: Mapping[str, Any] | None = attrs.field(eq=False, repr=False)
    status_subresource: bool
    printer_columns: tuple[Mapping[str, Any], ...] = attrs.field(eq=False, repr=False)
    storage: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def namespaced(self) -> bool:
        return self.scope == "Namespaced"


def load_crd_documents(root: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every ``CustomResourceDefinition`` document in ``*.yaml``/``*.yml``/``*.json`` under root.

    Parsed once per (path, mtime) per process: the shared CRDs are ~2 MB of YAML and the
    sandbox fixture starts once per test.
    """
    out: list[dict[str, Any]] = []
    base = Path(root)
    if not base.is_dir():
        raise FileNotFoundError(f"CRD directory not found: {base}")
    for path in sorted(base.rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".json") or not path.is_file():
            continue
        for doc in _parse_cached(path):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                out.append(clone(doc))
    return out


_PARSE_CACHE: dict[tuple[str, float], list[Any]] = {}
_PARSE_LOCK = threading.Lock()
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_cached(path: Path) -> list[Any]:
    key = (str(path.resolve()), path.stat().st_mtime)
    with _PARSE_LOCK:
        hit = _PARSE_CACHE.get(key)
    if hit is None:
        text = path.read_text(encoding="utf-8")
        hit = [json.loads(text)] if path.suffix == ".json" else list(yaml.load_all(text, _Loader))
        with _PARSE_LOCK:
            _PARSE_CACHE[key] = hit
    return hit


def versions_of(crd: Mapping[str, Any]) -> list[CRDVersion]:
    """The served versions a ``CustomResourceDefinition`` object declares."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group", "")
    kind = names.get("kind", "")
    plural = names.get("plural") or kind.lower() + "s"
    out = []
    for v in spec.get("versions") or []:
        if not v.get("served", True):
            continue
        schema = (v.get("schema") or {}).get("openAPIV3Schema")
        out.append(
            CRDVersion(
                crd_name=(crd.get("metadata") or {}).get("name") or f"{plural}.{group}",
                group=group,
                version=v.get("name", ""),
                kind=kind,
                list_kind=names.get("listKind") or kind + "List",
                plural=plural,
                singular=names.get("singular") or kind.lower(),
                scope=spec.get("scope", "Namespaced"),
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                schema=schema,
                status_subresource="status" in (v.get("subresources") or {}),
                printer_columns=tuple(v.get("additionalPrinterColumns") or ()),
                storage=bool(v.get("storage", True)),
            )
        )
    return out


class CRDRegistry:
    """CRD versions keyed by (group, version, kind) and by (group, version, plural).

    Thread-safe: the sandbox adds and removes CRDs while requests are being validated.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._by_kind: dict[tuple[str, str, str], CRDVersion] = {}
        self._by_plural: dict[tuple[str, str, str], CRDVersion] = {}
        self._crds: dict[str, dict[str, Any]] = {}

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def from_dir(cls, path: str | os.PathLike[str]) -> CRDRegistry:
        """A registry of every CRD found (recursively) under ``path``."""
        return cls.from_crds(load_crd_documents(path))

    @classmethod
    def from_crds(cls, crds: Iterable[Mapping[str, Any]]) -> CRDRegistry:
        reg = cls()
        for crd in crds:
            reg.add(crd)
        return reg

    def add(self, crd: Mapping[str, Any], *, immutable: bool = False) -> list[CRDVersion]:
        """Register (or replace) one ``CustomResourceDefinition`` object. ``immutable``: nobody
        changes ``crd`` in place (a stored object), so it is kept without a copy."""
        versions = versions_of(crd)
        name = (crd.get("metadata") or {}).get("name") or (versions[0].crd_name if versions else "")
        with self._lock:
            self.remove(name)
            self._crds[name] = dict(crd) if immutable else clone(dict(crd))
            for v in versions:
                self._by_kind[(v.group, v.version, v.kind)] = v
                self._by_plural[(v.group, v.version, v.plural)] = v
        return versions

    def remove(self, crd_name: str) -> None:
        with self._lock:
            if self._crds.pop(crd_name, None) is None:
                return
            for table in (self._by_kind, self._by_plural):
                for key in [k for k, v in table.items() if v.crd_name == crd_name]:
                    del table[key]

    # -- queries ----------------------------------------------------------------------------

    def lookup(self, api_version: str, kind: str) -> CRDVersion | None:
        """The CRD version serving ``apiVersion``/``kind``, or None."""
        group, _, version = api_version.rpartition("/")
        with self._lock:
            return self._by_kind.get((group, version, kind))

    def by_plural(self, group: str, version: str, plural: str) -> CRDVersion | None:
        with self._lock:
            return self._by_plural.get((group, version, plural))

    def versions(self) -> list[CRDVersion]:
        with self._lock:
            return list(self._by_kind.values())

    def crds(self) -> list[dict[str, Any]]:
        """Deep copies of the registered ``CustomResourceDefinition`` objects."""
        with self._lock:
            return [clone(c) for c in self._crds.values()]

    def crd(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            c = self._crds.get(name)
            return clone(c) if c is not None else None

    def __contains__(self, crd_name: object) -> bool:
        with self._lock:
            return crd_name in self._crds

    def __iter__(self) -> Iterator[CRDVersion]:
        return iter(self.versions())

    def __len__(self) -> int:
        with self._lock:
            return len(self._crds)

    # -- validation -------------------------------------------------------------------------

    def validate(self, obj: Mapping[str, Any], unknown: UnknownMode = "error") -> list[FieldError]:
        """Every problem with ``obj``; empty means a real API server would accept it.

        ``unknown="error"`` reports fields the schema does not know (what renderer tests want);
        ``"prune"``/``"ignore"`` accept them silently, as the API server does by default.
        An object of a kind the registry does not know is itself an error.
        """
        _, errors, _ = self.admit(obj, unknown=unknown, apply_defaults=False)
        return errors

    def admit(
        self,
        obj: Mapping[str, Any],
        unknown: UnknownMode = "prune",
        *,
        apply_defaults: bool = True,
        check_meta: bool = True,
        owned: bool = False,
    ) -> tuple[dict[str, Any], list[FieldError], list[str]]:
        """What the API server does on write: prune, default, validate.

        Returns ``(admitted_object, errors, unknown_field_paths)``. The admitted object is a
        copy with unknown fields pruned (unless ``unknown="ignore"``) and defaults applied.
        With ``unknown="error"`` unknown fields are also listed in ``errors``. ``owned``: the
        caller's ``obj`` is already a private copy, pruned and defaulted in place.
        """
        api_version = str(obj.get("apiVersion") or "")
        kind = str(obj.get("kind") or "")
        errors: list[FieldError] = []
        if not api_version:
            errors.append(FieldError("apiVersion", "Required value", "FieldValueRequired"))
        if not kind:
            errors.append(FieldError("kind", "Required value", "FieldValueRequired"))
        crd = self.lookup(api_version, kind) if api_version and kind else None
        if crd is None:
            if api_version and kind:
                errors.append(FieldError("kind", f"no CRD serves {kind} in {api_version}", "FieldValueNotSupported"))
            return dict(obj) if owned else dict(clone(obj)), errors, []
        return _admit_with(crd.schema, obj, unknown, apply_defaults, check_meta, crd.namespaced, owned)


def _admit_with(
    schema: Mapping[str, Any] | None,
    obj: Mapping[str, Any],
    unknown: UnknownMode,
    apply_defaults: bool,
    check_meta: bool,
    namespaced: bool,
    owned: bool = False,
) -> tuple[dict[str, Any], list[FieldError], list[str]]:
    ctx = _Ctx(unknown=unknown, defaults=apply_defaults)
    result = dict(obj) if owned else dict(clone(obj))
    if check_meta:
        ctx.errors.extend(validate_object_meta(result.get("metadata"), namespaced=namespaced))
    if schema:
        body = {k: v for k, v in result.items() if k not in ("apiVersion", "kind", "metadata")}
        root = {k: v for k, v in schema.items()}
        props = {
            k: v for k, v in (schema.get("properties") or {}).items() if k not in ("apiVersion", "kind", "metadata")
        }
        root["properties"] = props
        root["required"] = [r for r in schema.get("required") or () if r != "metadata"]
        walked = _walk(body, root, "", ctx)
        for key in list(result):
            if key not in ("apiVersion", "kind", "metadata"):
                del result[key]
        if isinstance(walked, dict):
            result.update(walked)
    return result, ctx.errors, ctx.unknown_paths


def validate_object_meta(meta: Any, *, namespaced: bool = True) -> list[FieldError]:
    """The part of ObjectMeta validation that catches rendering mistakes.

    name present (or generateName), DNS-1123 subdomain; namespace a DNS-1123 label; labels and
    annotations string maps with qualified-name keys; no unknown metadata fields.
    """
    errs: list[FieldError] = []
    if not isinstance(meta, dict):
        return [FieldError("metadata", "Required value", "FieldValueRequired")]
    name = meta.get("name")
    if not name and not meta.get("generateName"):
        errs.append(
            FieldError(
                "metadata.name",
                "Required value: name or generateName is required",
                "FieldValueRequired",
            )
        )
    elif name is not None and (not isinstance(name, str) or len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name)):
        errs.append(
            FieldError(
                "metadata.name",
                f"Invalid value: {json.dumps(name)}: a lowercase RFC 1123 subdomain must "
                "consist of lower case alphanumeric characters, '-' or '.', and must start "
                "and end with an alphanumeric character",
            )
        )
    ns = meta.get("namespace")
    if ns not in (None, "") and (not isinstance(ns, str) or not _DNS1123_LABEL.match(ns) or len(ns) > 63):
        errs.append(FieldError("metadata.namespace", f"Invalid value: {json.dumps(ns)}: must be a DNS-1123 label"))
    for field in ("labels", "annotations"):
        m = meta.get(field)
        if m is None:
            continue
        if not isinstance(m, dict):
            errs.append(
                FieldError(
                    f"metadata.{field}",
                    "Invalid value: must be a map of strings",
                    "FieldValueTypeInvalid",
                )
            )
            continue
        for k, v in m.items():
            if not isinstance(k, str) or not _QUALIFIED_NAME.match(k):
                errs.append(
                    FieldError(
                        f"metadata.{field}",
                        f"Invalid value: {json.dumps(k)}: "
                        "name part must consist of alphanumeric characters, '-', "
                        "'_' or '.'",
                    )
                )
            if not isinstance(v, str):
                errs.append(
                    FieldError(
                        f"metadata.{field}[{k}]",
                        f"Invalid value: {json.dumps(v)}: must be a string",
                        "FieldValueTypeInvalid",
                    )
                )
            elif field == "labels" and (len(v) > 63 or not _LABEL_VALUE.match(v)):
                errs.append(
                    FieldError(
                        f"metadata.labels[{k}]",
                        f"Invalid value: {json.dumps(v)}: a valid label value "
                        "must be 63 characters or less, alphanumeric, '-', '_' "
                        "or '.'",
                    )
                )
    for k in meta:
        if k not in _OBJECT_META_FIELDS:
            errs.append(FieldError(f"metadata.{k}", "unknown field", "UnknownField"))
    return errs


# ------------------------------------------------------------------------------------------
# the walk


@attrs.define
class _Ctx:
    unknown: UnknownMode
    defaults: bool
    errors: list[FieldError] = attrs.Factory(list)
    unknown_paths: list[str] = attrs.Factory(list)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _type_ok(value: Any, typ: str) -> bool:
    if typ == "object":
        return isinstance(value, dict)
    if typ == "array":
        return isinstance(value, list)
    if typ == "string":
        return isinstance(value, str)
    if typ == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if typ == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if typ == "boolean":
        return isinstance(value, bool)
    return True


def _walk(value: Any, schema: Mapping[str, Any], path: str, ctx: _Ctx) -> Any:
    """Validate ``value`` against ``schema``; return it with unknown fields pruned/defaults set."""
    if value is None:
        if schema.get("nullable"):
            return None
        # The API server drops nulls of non-nullable fields; a renderer emitting one has a bug.
        if ctx.unknown == "error":
            ctx.errors.append(FieldError(path, "Invalid value: null: field is not nullable", "FieldValueTypeInvalid"))
        return None
    typ = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        if not (_type_ok(value, "integer") or isinstance(value, str)):
            ctx.errors.append(
                FieldError(
                    path,
                    f"Invalid value: {_show(value)}: must be an integer or a string",
                    "FieldValueTypeInvalid",
                )
            )
            return value
    elif typ and not _type_ok(value, typ):
        ctx.errors.append(
            FieldError(
                path,
                f"Invalid value: {_show(value)}: {path or 'body'} in body must be of type {typ}: {_type_name(value)}",
                "FieldValueTypeInvalid",
            )
        )
        return value

    _check_values(value, schema, path, ctx)

    if isinstance(value, dict):
        return _walk_object(value, schema, path, ctx)
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            value = [_walk(v, items, f"{path}[{i}]", ctx) for i, v in enumerate(value)]
        _check_list_type(value, schema, path, ctx)
    return value


def _type_name(value: Any) -> str:
    return {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        int: "integer",
        float: "number",
    }.get(type(value), type(value).__name__)


def _walk_object(value: dict[str, Any], schema: Mapping[str, Any], path: str, ctx: _Ctx) -> Any:
    props: Mapping[str, Any] = schema.get("properties") or {}
    addl = schema.get("additionalProperties")
    preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
    out: dict[str, Any] = {}
    for key, sub in value.items():
        sub_path = _join(path, key)
        if key in props:
            walked = _walk(sub, props[key], sub_path, ctx)
            if sub is None and not props[key].get("nullable") and ctx.unknown != "ignore":
                continue  # dropped, as the API server drops non-nullable nulls
            out[key] = walked
        elif isinstance(addl, dict):
            out[key] = _walk(sub, addl, f"{path}[{key}]" if path else key, ctx)
        elif addl is True or preserve or (not props and addl is None and schema.get("type") != "object"):
            out[key] = sub
        else:
            ctx.unknown_paths.append(sub_path)
            if ctx.unknown == "error":
                ctx.errors.append(FieldError(sub_path, "unknown field", "UnknownField"))
            if ctx.unknown == "ignore":
                out[key] = sub
    if ctx.defaults:
        for key, sub in props.items():
            if key not in out and "default" in sub:
                out[key] = clone(sub["default"])
    for req in schema.get("required") or ():
        if req not in out:
            ctx.errors.append(FieldError(_join(path, req), "Required value", "FieldValueRequired"))
    return out


def _check_values(value: Any, schema: Mapping[str, Any], path: str, ctx: _Ctx) -> None:
    """Value validations (no structure): enum, bounds, pattern, format, combinators."""
    add = ctx.errors.append
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        supported = ", ".join(_show(e) for e in enum)
        add(
            FieldError(
                path,
                f"Unsupported value: {_show(value)}: supported values: {supported}",
                "FieldValueNotSupported",
            )
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if lo is not None and (value < lo or (schema.get("exclusiveMinimum") and value == lo)):
            rel = "greater than" if schema.get("exclusiveMinimum") else "greater than or equal to"
            add(FieldError(path, f"Invalid value: {_show(value)}: {path} in body should be {rel} {lo}"))
        if hi is not None and (value > hi or (schema.get("exclusiveMaximum") and value == hi)):
            rel = "less than" if schema.get("exclusiveMaximum") else "less than or equal to"
            add(FieldError(path, f"Invalid value: {_show(value)}: {path} in body should be {rel} {hi}"))
        mult = schema.get("multipleOf")
        if mult and (value / mult) != int(value / mult):
            add(FieldError(path, f"Invalid value: {_show(value)}: must be a multiple of {mult}"))
    if isinstance(value, str):
        lo, hi = schema.get("minLength"), schema.get("maxLength")
        if lo is not None and len(value) < lo:
            add(
                FieldError(
                    path,
                    f"Invalid value: {_show(value)}: {path} in body should be at least {lo} chars long",
                )
            )
        if hi is not None and len(value) > hi:
            add(FieldError(path, f"Too long: may not be more than {hi} bytes", "FieldValueTooLong"))
        pattern = schema.get("pattern")
        if pattern is not None:
            rx = _compile(pattern)
            if rx is not None and not rx.search(value):
                add(
                    FieldError(
                        path,
                        f"Invalid value: {_show(value)}: {path} in body should match '{pattern}'",
                    )
                )
        fmt = schema.get("format")
        if fmt and not _format_ok(value, fmt):
            add(
                FieldError(
                    path,
                    f"Invalid value: {_show(value)}: {path} in body must be of type {fmt}: {_show(value)}",
                )
            )
    elif isinstance(value, int) and not isinstance(value, bool):
        fmt = schema.get("format")
        limits = {"int32": 2**31, "int64": 2**63}.get(fmt or "")
        if limits and not -limits <= value < limits:
            add(FieldError(path, f"Invalid value: {value}: out of range for {fmt}"))
    if isinstance(value, list):
        lo, hi = schema.get("minItems"), schema.get("maxItems")
        if lo is not None and len(value) < lo:
            add(
                FieldError(
                    path,
                    f"Invalid value: {len(value)}: {path} in body should have at least {lo} items",
                )
            )
        if hi is not None and len(value) > hi:
            add(
                FieldError(
                    path,
                    f"Too many: {len(value)}: must have at most {hi} items",
                    "FieldValueTooMany",
                )
            )
        if schema.get("uniqueItems") and len({_canon(v) for v in value}) != len(value):
            add(FieldError(path, "Duplicate value: shall not contain duplicates", "FieldValueDuplicate"))
    if isinstance(value, dict):
        lo, hi = schema.get("minProperties"), schema.get("maxProperties")
        if lo is not None and len(value) < lo:
            add(FieldError(path, f"Invalid value: {path} in body should have at least {lo} properties"))
        if hi is not None and len(value) > hi:
            add(
                FieldError(
                    path,
                    f"Too many: {len(value)}: must have at most {hi} properties",
                    "FieldValueTooMany",
                )
            )
    _check_combinators(value, schema, path, ctx)


def _check_combinators(value: Any, schema: Mapping[str, Any], path: str, ctx: _Ctx) -> None:
    def ok(sub: Mapping[str, Any]) -> bool:
        probe = _Ctx(unknown="ignore", defaults=False)
        _walk(clone(value), sub, path, probe)
        return not probe.errors

    any_of = schema.get("anyOf")
    # int-or-string fields carry anyOf [integer, string] with value checks in the branches.
    if any_of and not any(ok(s) for s in any_of):
        ctx.errors.append(FieldError(path, f"Invalid value: {_show(value)}: must validate at least one schema (anyOf)"))
    one_of = schema.get("oneOf")
    if one_of and sum(ok(s) for s in one_of) != 1:
        ctx.errors.append(
            FieldError(
                path,
                f"Invalid value: {_show(value)}: must validate one and only one schema (oneOf)",
            )
        )
    for sub in schema.get("allOf") or ():
        if not ok(sub):
            ctx.errors.append(FieldError(path, f"Invalid value: {_show(value)}: must validate all the schemas (allOf)"))
    neg = schema.get("not")
    if isinstance(neg, dict) and ok(neg):
        ctx.errors.append(FieldError(path, f"Invalid value: {_show(value)}: must not validate the schema (not)"))


def _check_list_type(value: list[Any], schema: Mapping[str, Any], path: str, ctx: _Ctx) -> None:
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "set":
        seen: set[str] = set()
        for i, item in enumerate(value):
            c = _canon(item)
            if c in seen:
                ctx.errors.append(FieldError(f"{path}[{i}]", f"Duplicate value: {_show(item)}", "FieldValueDuplicate"))
            seen.add(c)
    elif list_type == "map":
        keys = schema.get("x-kubernetes-list-map-keys") or ()
        seen_keys: set[str] = set()
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                continue
            k = _canon({key: item.get(key) for key in keys})
            if k in seen_keys:
                shown = ", ".join(f"{key}={_show(item.get(key))}" for key in keys)
                ctx.errors.append(FieldError(f"{path}[{i}]", f"Duplicate value: {{{shown}}}", "FieldValueDuplicate"))
            seen_keys.add(k)


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


_RX_CACHE: dict[str, re.Pattern[str] | None] = {}


def _compile(pattern: str) -> re.Pattern[str] | None:
    if pattern not in _RX_CACHE:
        try:
            _RX_CACHE[pattern] = re.compile(pattern)
        except re.error:  # an RE2-only construct: do not reject what we cannot judge
            _RX_CACHE[pattern] = None
    return _RX_CACHE[pattern]


def _format_ok(value: str, fmt: str) -> bool:
    """The formats kube-apiserver checks; unknown formats pass (it ignores them too)."""
    try:
        if fmt == "date-time":
            _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        elif fmt == "date":
            _dt.date.fromisoformat(value)
        elif fmt == "byte":
            base64.b64decode(value, validate=True)
        elif fmt == "ipv4":
            ipaddress.IPv4Address(value)
        elif fmt == "ipv6":
            ipaddress.IPv6Address(value)
        elif fmt == "cidr":
            ipaddress.ip_network(value, strict=False)
        elif fmt == "uuid":
            uuid.UUID(value)
        elif fmt == "hostname":
            return bool(value) and len(value) <= 253 and bool(_DNS1123_SUBDOMAIN.match(value.lower()))
        return True
    except (ValueError, binascii.Error):
        return False
