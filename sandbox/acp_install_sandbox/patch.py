"""The four PATCH flavours kube-apiserver accepts, as pure functions on dicts.

- JSON merge patch (RFC 7386): what kubectl and the clients send for custom resources.
- JSON patch (RFC 6902): add/remove/replace/move/copy/test.
- Strategic merge patch: kubectl's default for built-in kinds. Approximated as a merge patch that
  understands the ``$patch``/``$retainKeys``/``$setElementOrder``/``$deleteFromPrimitiveList``
  directives and merges lists of objects by ``name`` (the merge key of containers, env, volumes,
  ports...), which covers what kubectl sends for Namespaces, Secrets, ConfigMaps and Pods.
- Server-side apply: the applied configuration merged over the live object (lists replaced,
  maps merged). Field ownership conflicts are not computed; managed fields are recorded.
"""

from __future__ import annotations

from typing import Any

from .data import clone

__all__ = ["PatchError", "apply_patch", "fields_v1", "json_patch", "merge_patch", "strategic_merge"]


class PatchError(ValueError):
    """The patch cannot be applied (400/422 to the client)."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: ``null`` deletes, objects merge recursively, anything else replaces."""
    if not isinstance(patch, dict):
        return clone(patch)
    result = clone(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge(target: Any, patch: Any) -> Any:
    """Approximate strategic merge patch (see module docstring)."""
    if not isinstance(patch, dict):
        return clone(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: clone(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    result = clone(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            if isinstance(result.get(name), list):
                result[name] = [x for x in result[name] if x not in (value or [])]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(result[key], value)
        else:
            merged = strategic_merge(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(live: list[Any], patch: list[Any]) -> list[Any]:
    keyed = all(isinstance(x, dict) and "name" in x for x in live + patch) and bool(patch)
    if not keyed:
        return [x for x in clone(patch) if not (isinstance(x, dict) and "$patch" in x)]
    out = clone(live)
    index = {x["name"]: i for i, x in enumerate(out)}
    for item in patch:
        if item.get("$patch") == "delete":
            out = [x for x in out if x.get("name") != item["name"]]
            index = {x["name"]: i for i, x in enumerate(out)}
        elif item["name"] in index:
            out[index[item["name"]]] = strategic_merge(out[index[item["name"]]], item)
        else:
            index[item["name"]] = len(out)
            out.append(clone(item))
    return out


def json_patch(target: Any, ops: Any) -> Any:
    """RFC 6902 JSON patch."""
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = clone(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid JSON patch operation: {op!r}")
        kind = op["op"]
        if kind == "add":
            doc = _put(doc, op["path"], clone(op.get("value")), insert=True)
        elif kind == "remove":
            doc, _ = _pop(doc, op["path"])
        elif kind == "replace":
            _get(doc, op["path"])
            doc = _put(doc, op["path"], clone(op.get("value")), insert=False)
        elif kind == "move":
            doc, value = _pop(doc, op["from"])
            doc = _put(doc, op["path"], value, insert=True)
        elif kind == "copy":
            doc = _put(doc, op["path"], clone(_get(doc, op["from"])), insert=True)
        elif kind == "test":
            if _get(doc, op["path"]) != op.get("value"):
                raise PatchError(f"test operation failed at {op['path']}")
        else:
            raise PatchError(f"unknown JSON patch operation {kind!r}")
    return doc


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"invalid JSON pointer {pointer!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _get(doc: Any, pointer: str) -> Any:
    cur = doc
    for tok in _tokens(pointer):
        try:
            cur = cur[int(tok)] if isinstance(cur, list) else cur[tok]
        except (KeyError, IndexError, ValueError, TypeError) as err:
            raise PatchError(f"path {pointer} does not exist") from err
    return cur


def _put(doc: Any, pointer: str, value: Any, *, insert: bool) -> Any:
    toks = _tokens(pointer)
    if not toks:
        return value
    parent = (
        _get(doc, "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in toks[:-1])) if len(toks) > 1 else doc
    )
    last = toks[-1]
    if isinstance(parent, list):
        idx = len(parent) if last == "-" else _index(last, len(parent) + (1 if insert else 0))
        if insert:
            parent.insert(idx, value)
        else:
            parent[idx] = value
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise PatchError(f"path {pointer} does not exist")
    return doc


def _pop(doc: Any, pointer: str) -> tuple[Any, Any]:
    toks = _tokens(pointer)
    if not toks:
        raise PatchError("cannot remove the whole document")
    parent = (
        _get(doc, "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in toks[:-1])) if len(toks) > 1 else doc
    )
    last = toks[-1]
    try:
        if isinstance(parent, list):
            return doc, parent.pop(_index(last, len(parent)))
        return doc, parent.pop(last)
    except (KeyError, AttributeError) as err:
        raise PatchError(f"path {pointer} does not exist") from err


def _index(tok: str, size: int) -> int:
    try:
        idx = int(tok)
    except ValueError as err:
        raise PatchError(f"invalid array index {tok!r}") from err
    if not 0 <= idx < max(size, 1) and not (idx == 0 and size == 0):
        raise PatchError(f"array index {idx} out of range")
    return idx


def apply_patch(live: dict[str, Any] | None, applied: dict[str, Any]) -> dict[str, Any]:
    """Server-side apply, simplified: maps merge, lists and scalars from the applied config win."""
    if live is None:
        return clone(applied)
    return _apply(live, applied)


def _apply(live: Any, applied: Any) -> Any:
    if isinstance(live, dict) and isinstance(applied, dict):
        out = clone(live)
        for k, v in applied.items():
            out[k] = _apply(out.get(k), v)
        return out
    return clone(applied)


def fields_v1(obj: Any) -> dict[str, Any]:
    """The ``fieldsV1`` set of an applied configuration (maps by key, lists as leaves)."""
    if not isinstance(obj, dict):
        return {}
    out: dict[str, Any] = {}
    for k, v in obj.items():
        if k in ("apiVersion", "kind"):
            continue
        if k == "metadata" and isinstance(v, dict):
            v = {x: y for x, y in v.items() if x in ("labels", "annotations", "finalizers")}
            if not v:
                continue
        out[f"f:{k}"] = fields_v1(v) if isinstance(v, dict) else {}
    return out
