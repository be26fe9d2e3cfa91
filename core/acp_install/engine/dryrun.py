"""``install --dry-run`` and ``diff``: what the next run would change, changing nothing.

Why server-side: only the API server knows what an apply really gives (defaults, admission,
the fields other managers own), so every object the remaining phases would apply is sent with
``dryRun=All`` and the object the server returns is compared with the live one. Nothing is
stored, no resourceVersion moves, the state file is not touched (it is read unlocked, as
``status`` reads it), and the installer request is only shown, with its secrets masked.

Secret values are sent (the server validates the real object) but never shown: every value
under ``data``/``stringData`` of a Secret is masked in the diff and everything passes the
redactor of the plan's secrets.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import attrs

from ..errors import ClusterError
from ..plan import InstallPlan
from ..yamlio import resolve_secrets
from .phases import PHASES, _content, _meta, _ref
from .preflight import check_secrets
from .state import read_state

#: phase -> the plan's objects it applies (the other phases apply none)
_APPLIES = ("packages", "manifest", "extra-resources")
MASK = "(secret value, not shown)"


@attrs.frozen
class Change:
    path: str
    old: Any  # None: absent before
    new: Any  # None: removed


@attrs.frozen
class ObjectDiff:
    """One object: ``create``, ``change`` (with its changed fields), ``unchanged``, or
    ``invalid`` (the server refused it: ``note`` says why)."""

    ref: str
    phase: str
    action: str
    changes: tuple[Change, ...] = ()
    note: str = ""


@attrs.frozen
class DryRun:
    server: str
    phases: tuple[tuple[str, str], ...]  # (phase, "run" | "skip")
    objects: tuple[ObjectDiff, ...]
    installer_request: Any  # the payload with secret placeholders
    installer_sent: bool

    def as_dict(self) -> dict[str, Any]:
        return {"server": self.server,
                "phases": [{"phase": p, "would": w} for p, w in self.phases],
                "objects": [{"object": o.ref, "phase": o.phase, "action": o.action,
                             "changes": [attrs.asdict(c) for c in o.changes], "note": o.note}
                            for o in self.objects],
                "installerRequest": {"sent": self.installer_sent, "payload": self.installer_request}}


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, Mapping) and data:
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(data, list) and data:
        out = {}
        for i, v in enumerate(data):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: data}


def _masked(obj: Mapping[str, Any], path: str, value: Any) -> Any:
    if value is not None and obj.get("kind") == "Secret" and path.split(".")[0] in ("data", "stringData"):
        return MASK
    return value


def diff_objects(live: Mapping[str, Any] | None, result: Mapping[str, Any]) -> list[Change]:
    """The fields that differ between the live object and the dry-run result (status and
    bookkeeping metadata aside, as the apply phases compare them)."""
    before = _flatten(_content(live)) if live is not None else {}
    after = _flatten(_content(result))
    changes = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old != new:
            changes.append(Change(path, _masked(result, path, old), _masked(result, path, new)))
    return changes


def dry_run(plan: InstallPlan, kubeconfig: str, workdir: str | os.PathLike[str] = ".", *,
            timeout: float = 60.0) -> DryRun:
    """Dry-run every phase that a run in ``workdir`` would run (nothing is changed)."""
    from ..clients.kube import KubeClient
    from ..clients.retry import Deadline

    state = read_state(workdir) or {}
    finished = {name for name, entry in (state.get("phases") or {}).items()
                if (entry or {}).get("status") == "finished"}
    phases = tuple((p.name, "skip" if p.name in finished else "run") for p in PHASES)
    todo = [p for p, w in phases if w == "run"]
    redact = check_secrets(plan, todo)
    objects: list[ObjectDiff] = []
    with KubeClient(kubeconfig, redact=redact) as kube:
        deadline = Deadline(timeout)
        planned = {"packages": [*plan.package_objects, *plan.appreleases], "manifest": plan.manifest,
                   "extra-resources": [plan.extra_resources] if plan.extra_resources is not None else []}
        for phase in _APPLIES:
            if phase not in todo:
                continue
            for obj in planned[phase]:
                objects.append(_one(kube, obj, phase, deadline, redact))
        server = kube.server
    installer = plan.files(include_secrets=False).get("installer-config.json", ("", None))[0]
    try:
        payload = json.loads(installer) if isinstance(installer, str) else installer
    except ValueError:
        payload = installer
    sent = bool((state.get("installer") or {}).get("sent"))
    return DryRun(server, phases, tuple(objects), payload, sent)


def _one(kube: Any, obj: Mapping[str, Any], phase: str, deadline: Any, redact: Any) -> ObjectDiff:
    meta = _meta(obj)
    api_version, kind, ref = str(obj["apiVersion"]), str(obj["kind"]), _ref(obj)
    if not kube.has_kind(api_version, kind, deadline=deadline):
        return ObjectDiff(ref, phase, "create", note=f"{api_version} {kind} is not served yet: its "
                          "CRD comes with an earlier phase, so the server cannot check it now")
    namespace = meta.get("namespace")
    if namespace and kube.get("v1", "Namespace", str(namespace), None, deadline=deadline) is None:
        return ObjectDiff(ref, phase, "create", note=f"namespace {namespace} is created first")
    live = kube.get(api_version, kind, str(meta["name"]), namespace, deadline=deadline)
    revealed = resolve_secrets(obj, reveal=True)
    try:
        result = kube.apply(revealed, deadline=deadline, dry_run=True)
    except ClusterError as err:
        return ObjectDiff(ref, phase, "invalid", note=redact(str(err)))
    finally:
        del revealed
    changes = diff_objects(live, result)
    if live is None:
        return ObjectDiff(ref, phase, "create", tuple(changes))
    return ObjectDiff(ref, phase, "change" if changes else "unchanged", tuple(changes))


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


def text_lines(result: DryRun, *, verbose: bool = False) -> list[str]:
    """The dry run for people: phases, then each object (+ created, ~ changed, = unchanged)."""
    lines = [f"dry run against {result.server}: nothing was changed on the cluster", "", "phases:"]
    for phase, would in result.phases:
        lines.append(f"  {phase:<16} {'would run' if would == 'run' else 'finished earlier, skipped'}")
    lines += ["", "objects (server-side dry-run apply, compared with the live objects):"]
    if not result.objects:
        lines.append("  none: the phases that apply objects are finished")
    marks = {"create": "+", "change": "~", "unchanged": "=", "invalid": "!"}
    for o in result.objects:
        words = {"create": "would be created", "change": f"{len(o.changes)} field(s) would change",
                 "unchanged": "unchanged", "invalid": "REFUSED by the server"}[o.action]
        lines.append(f"  {marks[o.action]} {o.ref} ({o.phase}): {words}"
                     + (f"; {o.note}" if o.note else ""))
        if o.action == "change" or (verbose and o.action == "create"):
            for c in o.changes:
                if c.old is None:
                    lines.append(f"      + {c.path}: {_short(c.new)}")
                elif c.new is None:
                    lines.append(f"      - {c.path}: {_short(c.old)}")
                else:
                    lines.append(f"      ~ {c.path}: {_short(c.old)} -> {_short(c.new)}")
    lines += ["", "installer request (secrets masked): "
              + ("already sent by an earlier run, not sent again" if result.installer_sent
                 else "would be sent by phase installer")]
    lines += ["  " + ln for ln in json.dumps(result.installer_request, indent=2, sort_keys=True).splitlines()]
    return lines
