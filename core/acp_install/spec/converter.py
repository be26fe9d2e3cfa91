"""The one private cattrs converter that turns YAML data into spec records.

Strict on purpose: unknown keys are errors (a typo must not be silently ignored), scalars are not
coerced (``replicas: "3"`` is an error, not 3), and a secret given as a literal is refused. Every
error comes back as ``(path, message)`` so the loader can point at the YAML line.

:func:`structure_partial` structures the common fields one by one, so a broken field breaks only
itself: the loader still runs every semantic check that does not read it, and reports structural
and semantic findings in one pass.
"""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Mapping
from types import NoneType, UnionType
from typing import Any, NoReturn

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from ..secrets import SecretRef

_ERR = re.compile(r"^(?P<msg>.*) @ \$(?P<path>.*)$", re.S)


#: YAML's words for what a value is (a user wrote YAML, not Python: never ``str`` or ``NoneType``)
_KINDS: tuple[tuple[type, str], ...] = ((bool, "a boolean"), (int, "an integer"), (float, "a number"),
                                        (str, "a string"), (list, "a list"), (dict, "a mapping"))


def yaml_kind(value: Any) -> str:
    """``a string``, ``a list``, ``null``... for messages about a value of the wrong type."""
    if value is None:
        return "null"
    return next((word for tp, word in _KINDS if isinstance(value, tp)), "a value of another type")


def _got(value: Any) -> str:
    """``a string '3'``; ``null`` alone."""
    return "null" if value is None else f"{yaml_kind(value)} {value!r}"


def _strict_str(value: Any, _type: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {_got(value)}")
    return value


def _strict_int(value: Any, _type: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {_got(value)}")
    return value


def _strict_bool(value: Any, _type: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {_got(value)}")
    return value


def _secret_ref(value: Any, _type: Any) -> SecretRef:
    if isinstance(value, str):
        raise ValueError(
            "literal secrets are not allowed; use {file: PATH} or {env: NAME}"
        )
    if not isinstance(value, dict):
        raise TypeError("expected {file: PATH} or {env: NAME}")
    extra = set(value) - {"file", "env"}
    if extra:
        raise ValueError(f"unknown key(s) {sorted(extra)}; use {{file: PATH}} or {{env: NAME}}")
    if len(value) != 1:
        raise ValueError("give exactly one of 'file' or 'env'")
    (key, ref), = value.items()
    if not isinstance(ref, str) or not ref:
        raise TypeError(f"'{key}' must be a non-empty string")
    return SecretRef(**{key: ref})


def make_converter() -> cattrs.Converter:
    """A fresh strict converter (never the global one: plugins must not change ours)."""
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(int, _strict_int)
    conv.register_structure_hook(bool, _strict_bool)
    conv.register_structure_hook(SecretRef, _secret_ref)
    conv.register_unstructure_hook(SecretRef, lambda r: {"file": r.file} if r.file else {"env": r.env})
    return conv


_CONVERTER = make_converter()
#: Records with a hook of their own: structured whole, never field by field.
_LEAVES: frozenset[type] = frozenset({SecretRef})


def structure(data: Any, cls: type, prefix: str = "") -> tuple[Any, list[tuple[str, str]]]:
    """Structure ``data`` as ``cls``; return (object or None, [(path, message), ...])."""
    if not isinstance(data, dict):
        return None, [(prefix, f"expected a mapping, got {yaml_kind(data)}")]
    return _leaf(data, cls, prefix)


def _leaf(data: Any, tp: Any, prefix: str) -> tuple[Any, list[tuple[str, str]]]:
    """One cattrs call; its errors, each with the full path of the value that failed."""
    try:
        return _CONVERTER.structure(data, tp), []
    except (ClassValidationError, ForbiddenExtraKeysError, TypeError, ValueError, AttributeError) as exc:
        errors = []
        for line in cattrs.transform_error(exc, path="$", format_exception=_format):
            m = _ERR.match(line)
            path, msg = (m["path"], m["msg"]) if m else ("", line)
            path = path.lstrip(".")
            full = f"{prefix}.{path}" if prefix and path and not path.startswith("[") else (
                prefix + path if prefix else path)
            if msg.startswith("unknown field(s): "):
                # one finding per unknown key, each pointing at the key's own line
                for key in msg.split(": ", 1)[1].split(", "):
                    errors.append((f"{full}.{key}" if full else key, "unknown field"))
            else:
                errors.append((full, msg))
        return None, errors


class BrokenFieldUsed(RuntimeError):
    """A semantic check read a field that failed to structure: the check lacks a guard (a bug)."""


class _Broken:
    """Stands in for a field that failed to structure; any use of it is a bug, never a value.

    Checks skip what they cannot check (see ``checks.Fields``); this placeholder makes a missing
    guard fail loudly in the tests instead of producing a finding about a value nobody wrote.
    """

    __slots__ = ()

    def _refuse(self, *_args: Any, **_kwargs: Any) -> NoReturn:
        raise BrokenFieldUsed("a check read a field that failed to structure")

    __getattr__ = __str__ = __eq__ = __ne__ = __lt__ = __hash__ = __bool__ = _refuse
    __iter__ = __len__ = __contains__ = __format__ = __fspath__ = __index__ = __int__ = _refuse

    def __repr__(self) -> str:
        return "<field that failed to structure>"


BROKEN: Any = _Broken()


def _nested(tp: Any) -> tuple[type | None, bool]:
    """(the attrs class of ``X`` or ``X | None``, whether None is allowed)."""
    if isinstance(tp, type) and attrs.has(tp) and tp not in _LEAVES:
        return tp, False
    if typing.get_origin(tp) in (typing.Union, UnionType):
        args = [a for a in typing.get_args(tp) if a is not NoneType]
        if len(args) == 1 and isinstance(args[0], type) and attrs.has(args[0]) \
                and args[0] not in _LEAVES:
            return args[0], True
    return None, False


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    """A record's resolved annotations, once per class (resolving them is most of a parse)."""
    return typing.get_type_hints(cls)


def structure_partial(data: Any, cls: type, prefix: str = "", *, skip: frozenset[str] = frozenset()
                      ) -> tuple[Any, list[tuple[str, str]], set[str]]:
    """Structure ``data`` as ``cls`` field by field: (object, errors, paths that failed).

    A field that fails holds :data:`BROKEN` and its path is returned; an unknown key is reported
    and dropped (it breaks nothing). Nested records are structured the same way, so one wrong
    scalar breaks that scalar, not its whole section. Fields named in ``skip`` are left ``None``
    for the caller to fill (``platform``, structured with the provider's class).
    """
    if not isinstance(data, Mapping):
        return BROKEN, [(prefix, f"expected a mapping, got {yaml_kind(data)}")], {prefix}
    hints = _type_hints(cls)
    known = {a.name for a in attrs.fields(cls)}
    errors = [(f"{prefix}.{key}" if prefix else str(key), "unknown field")
              for key in sorted(set(data) - known, key=str)]
    broken: set[str] = set()
    kwargs: dict[str, Any] = {}
    for a in attrs.fields(cls):
        path = f"{prefix}.{a.name}" if prefix else a.name
        if a.name in skip:
            kwargs[a.name] = None
            continue
        if a.name not in data:
            if a.default is attrs.NOTHING:
                errors.append((path, "required field missing"))
                broken.add(path)
                kwargs[a.name] = BROKEN
            continue
        value, (inner, optional) = data[a.name], _nested(hints.get(a.name, a.type))
        if inner is None or (value is None and optional):
            obj, errs = _leaf(value, hints.get(a.name, a.type), path)
            brk = {path} if errs else set()
        else:
            obj, errs, brk = structure_partial(value, inner, path)
        errors.extend(errs)
        broken |= brk
        kwargs[a.name] = BROKEN if errs and obj is None else obj
    try:
        return cls(**kwargs), errors, broken
    except (TypeError, ValueError):  # a validator refused a placeholder: the record is broken
        return BROKEN, errors, broken | {prefix}


def _format(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, AttributeError) and "keys" in str(exc):
        return "expected a mapping"
    if isinstance(exc, ForbiddenExtraKeysError):
        return f"unknown field(s): {', '.join(sorted(exc.extra_fields))}"
    if isinstance(exc, TypeError | ValueError) and str(exc):
        return str(exc)
    return cattrs.v.format_exception(exc, type_)


def unstructure(obj: Any) -> Any:
    return _CONVERTER.unstructure(obj)
