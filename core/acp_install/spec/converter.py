"""The one private cattrs converter that turns YAML data into spec records.

Strict on purpose: unknown keys are errors (a typo must not be silently ignored), scalars are not
coerced (``replicas: "3"`` is an error, not 3), and a secret given as a literal is refused. Every
error comes back as ``(path, message)`` so the loader can point at the YAML line.
"""

from __future__ import annotations

import re
from typing import Any

import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from ..secrets import SecretRef

_ERR = re.compile(r"^(?P<msg>.*) @ \$(?P<path>.*)$", re.S)


def _strict_str(value: Any, _type: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__} {value!r}")
    return value


def _strict_int(value: Any, _type: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__} {value!r}")
    return value


def _strict_bool(value: Any, _type: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {type(value).__name__} {value!r}")
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


def structure(data: Any, cls: type, prefix: str = "") -> tuple[Any, list[tuple[str, str]]]:
    """Structure ``data`` as ``cls``; return (object or None, [(path, message), ...])."""
    if not isinstance(data, dict):
        return None, [(prefix, f"expected a mapping, got {type(data).__name__}")]
    try:
        return _CONVERTER.structure(data, cls), []
    except (ClassValidationError, ForbiddenExtraKeysError, TypeError, ValueError, AttributeError) as exc:
        errors = []
        for line in cattrs.transform_error(exc, path="$", format_exception=_format):
            m = _ERR.match(line)
            path, msg = (m["path"], m["msg"]) if m else ("", line)
            path = path.lstrip(".")
            full = f"{prefix}.{path}" if prefix and path else (prefix or path)
            if msg.startswith("unknown field(s): "):
                # one finding per unknown key, each pointing at the key's own line
                for key in msg.split(": ", 1)[1].split(", "):
                    errors.append((f"{full}.{key}" if full else key, "unknown field"))
            else:
                errors.append((full, msg))
        return None, errors


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
