"""The API semantics shared by the HTTP front end and the in-process controllers.

Why a layer between HTTP and the store: admission (Secret ``stringData`` folding, CRD
establishment, structural-schema pruning and validation, managed fields) must apply to every
write, whether it arrives from kubectl or from a simulated controller, and the HTTP layer should
only translate bytes.
"""

from __future__ import annotations

import base64
import builtins
import json
import math
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any, Literal

import yaml

from .data import clone
from .errors import ApiError
from .holds import Holds
from .kinds import CRD_RESOURCE, Kinds, ResourceType, from_crd_version
from .patch import PatchError, apply_patch, fields_v1, json_patch, merge_patch, strategic_merge
from .recorder import Recorder
from .schema import versions_of
from .selectors import SelectorError, parse_field_selector, parse_label_selector, selected_name
from .store import Store, WatchEvent, now_ts

__all__ = ["Api", "FieldValidation"]

Obj = dict[str, Any]
FieldValidation = Literal["Strict", "Warn", "Ignore"]

PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+json": "apply",
}
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


#: Bounds on one decoded request body: values after alias expansion, and nesting. A 501-byte
#: YAML alias bomb would otherwise expand to gigabytes; a real API server refuses both.
MAX_BODY_VALUES = 1_000_000
MAX_BODY_DEPTH = 200


def _expanded_size(root: yaml.Node) -> int:
    """How many values ``root`` becomes once its aliases are expanded, without expanding them
    (each shared node is sized once); raises ``ApiError`` past the bounds."""
    sizes: dict[int, int] = {}
    # iterative post-order walk: deep nesting must not exhaust the stack either
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, done = stack.pop()
        if depth > MAX_BODY_DEPTH:
            raise ApiError.bad_request(f"the request body is nested more than {MAX_BODY_DEPTH} levels deep")
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else node.value
        if done:
            total = 1 + sum(sizes[id(c)] for c in children)
            if total > MAX_BODY_VALUES:
                raise ApiError.bad_request(
                    f"the request body expands to more than {MAX_BODY_VALUES} values (YAML aliases?)")
            sizes[id(node)] = total
            continue
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _check_depth(data: Any) -> None:
    """Refuse decoded data nested deeper than :data:`MAX_BODY_DEPTH` (every later step that
    copies or merges it recurses)."""
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_BODY_DEPTH:
            raise ApiError.bad_request(f"the request body is nested more than {MAX_BODY_DEPTH} levels deep")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def _load_yaml(text: str) -> Any:
    """One YAML document, bounded before it is constructed (aliases are not expanded until
    the size of the expansion is known)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is out of range for a JSON number")
    return value


def _strict_json(text: str) -> Any:
    """JSON as the API server reads it: no NaN, Infinity or numbers out of a double's range
    (Python's reader accepts all three; NaN also never equals itself, so an unchanged apply
    would look like a change)."""
    return json.loads(text, parse_constant=_no_constant, parse_float=_finite)


def decode_body(raw: bytes, *, yaml_ok: bool = False) -> Any:
    """JSON (or YAML for apply) bytes -> data; 400 on garbage, on an alias bomb and on nesting
    too deep to walk."""
    try:
        text = raw.decode("utf-8")
        if yaml_ok:
            # clients send apply patches as JSON: read as JSON (as the API server does, and ~50x
            # faster than through the YAML constructor); YAML only when it is not JSON
            try:
                data = _strict_json(text) if text.lstrip().startswith("{") else None
            except ValueError:
                data = None
            if data is None:
                return _load_yaml(text)
        else:
            data = _strict_json(text)
        if raw.count(b"[") + raw.count(b"{") > MAX_BODY_DEPTH:
            _check_depth(data)
        return data
    except RecursionError:
        raise ApiError.bad_request(f"the request body is nested more than {MAX_BODY_DEPTH} levels deep") from None
    except (ValueError, yaml.YAMLError) as err:
        raise ApiError.bad_request(f"the body of the request was in an unknown format: {str(err)[:500]}") from None


class Api:
    """Kubernetes API semantics over a :class:`Store`."""

    def __init__(
        self, kinds: Kinds, store: Store, recorder: Recorder, default_field_validation: FieldValidation = "Warn"
    ) -> None:
        self.kinds = kinds
        self.store = store
        self.recorder = recorder
        self.default_field_validation = default_field_validation
        #: what the simulated controllers must leave alone; client reads may end a hold
        self.holds = Holds()
        #: container output by Pod (namespace, name), what ``GET .../pods/NAME/log`` serves
        self._logs: dict[tuple[str, str], deque[str]] = {}
        self._logs_lock = threading.Lock()
        store.add_listener(self._on_change)

    # -- pod logs ----------------------------------------------------------------------------

    def log(self, namespace: str, pod: str, line: str) -> None:
        """Append one line to a Pod's log (simulated components write what they do); the last
        500 lines of each Pod are kept."""
        with self._logs_lock:
            self._logs.setdefault((namespace, pod), deque(maxlen=500)).append(f"{now_ts()} {line}")

    def pod_log(self, namespace: str, pod: str) -> str:
        """The log of a Pod that exists (404 otherwise), as ``kubectl logs`` prints it."""
        self.get(self.kinds.by_path("", "v1", "pods"), namespace, pod)  # type: ignore[arg-type]
        with self._logs_lock:
            lines = list(self._logs.get((namespace, pod), ()))
        return "".join(line + "\n" for line in lines)

    # -- CRDs make kinds appear ---------------------------------------------------------------

    def _on_change(self, ev: WatchEvent) -> None:
        if ev.key != CRD_RESOURCE.key:
            return
        name = ev.obj["metadata"]["name"]
        if ev.type == "DELETED":
            gone = [from_crd_version(v) for v in versions_of(ev.obj)]
            self.kinds.crds.remove(name)
            for rt in gone[:1]:
                self.store.drop_resource(rt)
        else:
            self.kinds.crds.add(ev.obj, immutable=True)  # stored objects are never changed in place

    # -- lookups -----------------------------------------------------------------------------

    def resource(self, group: str, version: str, plural: str) -> ResourceType:
        rt = self.kinds.by_path(group, version, plural)
        if rt is None:
            raise ApiError(
                404, "NotFound", "the server could not find the requested resource", {"group": group, "kind": plural}
            )
        return rt

    def resource_for(self, obj: Obj) -> ResourceType:
        rt = self.kinds.by_kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        if rt is None:
            raise ApiError(
                404, "NotFound", f'no matches for kind "{obj.get("kind")}" in version "{obj.get("apiVersion")}"'
            )
        return rt

    # -- admission ---------------------------------------------------------------------------

    def _admit(
        self, rt: ResourceType, obj: Any, namespace: str | None, field_validation: str | None
    ) -> tuple[Obj, builtins.list[str]]:
        if not isinstance(obj, dict):
            raise ApiError.bad_request("the body of the request must be a JSON object")
        obj = clone(obj)
        obj.setdefault("apiVersion", rt.api_version)
        obj.setdefault("kind", rt.kind)
        if obj["kind"] != rt.kind:
            raise ApiError.bad_request(
                f"the kind of the object ({obj['kind']}) does not match the resource ({rt.kind})"
            )
        if obj["apiVersion"] != rt.api_version:
            obj["apiVersion"] = rt.api_version  # one stored version per group/resource
        meta = obj.get("metadata")
        if meta is None:
            meta = obj["metadata"] = {}
        if not isinstance(meta, dict):
            raise ApiError.bad_request("metadata must be an object")
        if rt.namespaced:
            if namespace and meta.get("namespace") not in (None, "", namespace):
                raise ApiError.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            if namespace:
                meta["namespace"] = namespace
        warnings: builtins.list[str] = []
        if rt.key == ("", "secrets"):
            _fold_string_data(obj)
        elif rt.key == ("", "namespaces"):
            obj.setdefault("status", {}).setdefault("phase", "Active")
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        elif rt.key == CRD_RESOURCE.key:
            _check_crd(obj)
            _establish(obj)
        elif rt.custom:
            mode = field_validation or self.default_field_validation
            unknown: Any = {"Strict": "error", "Ignore": "ignore"}.get(mode, "prune")
            admitted, errors, unknown_paths = self.kinds.crds.admit(obj, unknown=unknown, owned=True)
            strict = [e for e in errors if e.reason == "UnknownField"]
            if strict:
                fields = ", ".join(f'unknown field "{e.path}"' for e in strict)
                raise ApiError.bad_request(
                    f'{rt.kind} in version "{rt.version}" cannot be '
                    f"handled as a {rt.kind}: strict decoding error: "
                    f"{fields}"
                )
            if errors:
                raise ApiError.invalid(
                    rt.kind, rt.group, str(meta.get("name", "")), [(e.path, e.reason, e.message) for e in errors]
                )
            if mode == "Warn":
                warnings = [f'unknown field "{p}"' for p in unknown_paths]
            obj = admitted
        return obj, warnings

    @staticmethod
    def _manage(obj: Obj, manager: str, operation: str, applied: Obj | None, subresource: str = "") -> None:
        if not manager:
            return
        entries = [
            e
            for e in obj["metadata"].get("managedFields") or []
            if not (
                e.get("manager") == manager
                and e.get("operation") == operation
                and e.get("subresource", "") == subresource
            )
        ]
        entry: Obj = {
            "manager": manager,
            "operation": operation,
            "apiVersion": obj.get("apiVersion"),
            "time": now_ts(),
            "fieldsType": "FieldsV1",
            "fieldsV1": fields_v1(applied or obj),
        }
        if subresource:
            entry["subresource"] = subresource
        entries.append(entry)
        obj["metadata"]["managedFields"] = entries

    # -- verbs -------------------------------------------------------------------------------

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        """A client read (controllers read the store): it may end a hold ``until="observed"``."""
        before = self.holds.engaged()
        try:
            return self.store.get(rt, namespace, name)
        finally:  # a 404 is an observation too: "not created yet" was the held state
            self.holds.observed(rt.kind, namespace, (name,), before)

    def list(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> Obj:
        match = self._matcher(label_selector, field_selector)
        before = self.holds.engaged()
        items, rv = self.store.list(rt, namespace, match)
        # a LIST narrowed to one name (as watches and gates read) observed that name only, whether
        # the object exists or not; an unnarrowed LIST observed the whole kind
        name = selected_name(field_selector)
        self.holds.observed(rt.kind, namespace, None if name is None else [name], before)
        return {
            "apiVersion": rt.api_version,
            "kind": rt.list_kind,
            "metadata": {"resourceVersion": str(rv)},
            "items": items,
        }

    @staticmethod
    def _matcher(label_selector: str | None, field_selector: str | None) -> Any:
        try:
            labels = parse_label_selector(label_selector)
            fields = parse_field_selector(field_selector)
        except SelectorError as err:
            raise ApiError.bad_request(str(err)) from None
        if not label_selector and not field_selector:
            return None
        return lambda o: labels(o) and fields(o)

    def create(
        self,
        rt: ResourceType,
        obj: Any,
        namespace: str | None = None,
        *,
        manager: str = "",
        field_validation: str | None = None,
        dry_run: bool = False,
    ) -> tuple[Obj, builtins.list[str]]:
        admitted, warnings = self._admit(rt, obj, namespace, field_validation)
        self._manage(admitted, manager, "Update", None)
        if dry_run:
            return admitted, warnings
        created = self.store.create(rt, admitted, adopt=True)
        self.recorder.write("create", created, manager=manager)
        return created, warnings

    def replace(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        obj: Any,
        *,
        subresource: str = "",
        manager: str = "",
        field_validation: str | None = None,
        check_rv: bool = True,
    ) -> tuple[Obj, builtins.list[str]]:
        if isinstance(obj, dict):
            meta = obj.get("metadata") or {}
            if meta.get("name") not in (None, name):
                raise ApiError.bad_request("the name of the object does not match the name on the URL")
            obj = clone(obj)
            obj.setdefault("metadata", {})["name"] = name
        admitted, warnings = self._admit(rt, obj, namespace, field_validation)
        self._manage(admitted, manager, "Update", None, subresource)
        updated = self.store.update(rt, admitted, subresource=subresource or None, check_rv=check_rv,
                                    adopt=True)
        self.recorder.write("update", updated, manager=manager, subresource=subresource)
        return updated, warnings

    def patch(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        body: bytes,
        content_type: str,
        *,
        subresource: str = "",
        manager: str = "",
        field_validation: str | None = None,
        force: bool = False,
        dry_run: bool = False,
    ) -> tuple[Obj, builtins.list[str], bool]:
        """Apply a PATCH; returns (object, warnings, created).

        ``dry_run`` (``dryRun=All``): validated and computed as for real, nothing stored or
        recorded, no resourceVersion bumped, as a real API server does.
        """
        ptype = PATCH_TYPES.get(content_type.split(";")[0].strip().lower())
        if ptype is None:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media "
                f"types include: {', '.join(PATCH_TYPES)}",
            )
        patch = decode_body(body, yaml_ok=ptype == "apply")
        live = self.store.try_get(rt, namespace, name)
        if ptype == "apply":
            if not isinstance(patch, dict):
                raise ApiError.bad_request("an apply patch must be an object")
            if not manager:
                raise ApiError.bad_request("PATCH, application/apply-patch+yaml requests must have a fieldManager")
            meta = patch.get("metadata") or {}
            if meta.get("name") not in (None, name):
                raise ApiError.bad_request("the name of the object does not match the name on the URL")
            if live is None:
                if subresource:
                    raise ApiError.not_found(rt.plural, name, rt.group)
                # admission copies: only the top level and metadata are changed here
                applied = {**patch, "metadata": {**(patch.get("metadata") or {}), "name": name}}
                admitted, warnings = self._admit(rt, applied, namespace, field_validation)
                self._manage(admitted, manager, "Apply", patch)
                if dry_run:
                    return admitted, warnings, True
                created = self.store.create(rt, admitted, adopt=True)
                self.recorder.write("apply", created, manager=manager)
                return created, warnings, True
            merged = apply_patch(live, patch)
            merged["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
            admitted, warnings = self._admit(rt, merged, namespace, field_validation)
            self._manage(admitted, manager, "Apply", patch, subresource)
            if dry_run:
                return admitted, warnings, False
            updated = self.store.update(rt, admitted, subresource=subresource or None, adopt=True)
            self.recorder.write("apply", updated, manager=manager, subresource=subresource)
            return updated, warnings, False
        if live is None:
            raise ApiError.not_found(rt.plural, name, rt.group)
        try:
            if ptype == "merge":
                new = merge_patch(live, patch)
            elif ptype == "json":
                new = json_patch(live, patch)
            else:
                new = strategic_merge(live, patch)
        except PatchError as err:
            raise ApiError(422, "Invalid", str(err)) from None
        if not isinstance(new, dict):
            raise ApiError.bad_request("the patch did not produce an object")
        meta = new.setdefault("metadata", {})
        sent_rv = (patch.get("metadata") or {}).get("resourceVersion") if isinstance(patch, dict) else None
        meta["resourceVersion"] = sent_rv or live["metadata"]["resourceVersion"]
        meta["name"] = name
        admitted, warnings = self._admit(rt, new, namespace, field_validation)
        self._manage(admitted, manager, "Update", None, subresource)
        updated = self.store.update(rt, admitted, subresource=subresource or None, adopt=True)
        self.recorder.write("patch", updated, manager=manager, subresource=subresource)
        return updated, warnings, False

    def delete(self, rt: ResourceType, namespace: str | None, name: str, options: Obj | None = None) -> Obj:
        pre = (options or {}).get("preconditions") or {}
        gone = self.store.delete(rt, namespace, name, uid=pre.get("uid"), resource_version=pre.get("resourceVersion"))
        self.recorder.write("delete", gone)
        return gone

    def watch(
        self,
        rt: ResourceType,
        namespace: str | None,
        since: str | None,
        label_selector: str | None,
        field_selector: str | None,
        timeout: float,
        stop: Any = None,
        initial: bool = False,
    ) -> Iterator[tuple[str, Obj]]:
        match = self._matcher(label_selector, field_selector)
        cursor: int | None
        if since in (None, "", "0"):
            cursor = None
        else:
            try:
                cursor = int(str(since))
            except ValueError:
                raise ApiError.bad_request(f"invalid resourceVersion {since!r}") from None
        # A watch is a client reading continuously: each time it has been sent everything up to
        # now, it has seen the state the holds engaged before then were keeping (as a LIST does).
        name = selected_name(field_selector)
        names = None if name is None else [name]
        before = [self.holds.engaged()]

        def caught_up() -> None:
            self.holds.observed(rt.kind, namespace, names, before[0])
            before[0] = self.holds.engaged()

        return self.store.watch(rt, namespace, cursor, match, timeout, stop, initial, caught_up)

    # -- convenience for controllers and tests -------------------------------------------------

    def apply_object(self, obj: Obj, *, manager: str = "acp-install-sandbox") -> Obj:
        """Server-side apply of a whole object (creates it if missing)."""
        rt = self.resource_for(obj)
        meta = obj.get("metadata") or {}
        body = json.dumps(obj).encode()
        out, _, _ = self.patch(
            rt, meta.get("namespace"), meta["name"], body, "application/apply-patch+yaml", manager=manager, force=True
        )
        return out

    def set_status(
        self, rt: ResourceType, namespace: str | None, name: str, status: Obj, *, manager: str = "acp-install-sandbox"
    ) -> Obj | None:
        """Replace ``status`` of an object if it still exists (controllers' write). Returns the
        object written, or None when nothing was: it is gone, or its status already is
        ``status`` (controllers set every status on every pass; most passes change nothing, and
        the comparison reads the stored object without copying it)."""
        if self.store.status_is(rt, namespace, name, status) is not False:
            return None
        live = self.store.try_get(rt, namespace, name)
        if live is None:
            return None
        live["status"] = status
        sub = "status" if rt.status_subresource else ""
        out, _ = self.replace(rt, namespace, name, live, subresource=sub, manager=manager, check_rv=False)
        return out


def _fold_string_data(obj: Obj) -> None:
    """Secrets: ``stringData`` is write-only, merged into base64 ``data`` (it wins)."""
    string_data = obj.pop("stringData", None)
    if string_data is not None and not isinstance(string_data, dict):
        raise ApiError.bad_request("stringData must be a map of strings")
    data = obj.get("data") or {}
    if not isinstance(data, dict):
        raise ApiError.bad_request("data must be a map of base64 strings")
    for key, value in (string_data or {}).items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    for key, value in data.items():
        try:
            base64.b64decode(str(value), validate=True)
        except ValueError:
            raise ApiError.invalid(
                "Secret",
                "",
                str(obj["metadata"].get("name", "")),
                [(f"data[{key}]", "FieldValueInvalid", "Invalid value: illegal base64 data")],
            ) from None
    if data:
        obj["data"] = data
    obj.setdefault("type", "Opaque")


def _check_crd(obj: Obj) -> None:
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    name = (obj.get("metadata") or {}).get("name", "")
    causes = []
    if not spec.get("group"):
        causes.append(("spec.group", "FieldValueRequired", "Required value"))
    if not names.get("kind"):
        causes.append(("spec.names.kind", "FieldValueRequired", "Required value"))
    if not names.get("plural"):
        causes.append(("spec.names.plural", "FieldValueRequired", "Required value"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(
            ("spec.scope", "FieldValueNotSupported", 'Unsupported value: supported values: "Cluster", "Namespaced"')
        )
    if not spec.get("versions"):
        causes.append(("spec.versions", "FieldValueRequired", "Required value"))
    if not causes and name != f"{names['plural']}.{spec['group']}":
        causes.append(
            ("metadata.name", "FieldValueInvalid", f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group')
        )
    if causes:
        raise ApiError.invalid("CustomResourceDefinition", "apiextensions.k8s.io", name, causes)


def _establish(obj: Obj) -> None:
    """The CRD controller's job, done at admission: names accepted, Established."""
    spec = obj["spec"]
    ts = now_ts()
    names = dict(spec["names"])
    names.setdefault("singular", names["kind"].lower())
    names.setdefault("listKind", names["kind"] + "List")
    obj["status"] = {
        "acceptedNames": names,
        "storedVersions": [v["name"] for v in spec["versions"] if v.get("storage")],
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "reason": "NoConflicts",
                "message": "no conflicts found",
                "lastTransitionTime": ts,
            },
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
                "lastTransitionTime": ts,
            },
        ],
    }
