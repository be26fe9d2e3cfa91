"""Shared controller plumbing: a scaled clock, condition helpers, Events."""

from __future__ import annotations

import contextlib
import hashlib
import time
from typing import Any

from ..api import Api
from ..errors import ApiError
from ..kinds import BUILTIN, ResourceType
from ..scenarios import Scenario
from ..store import now_ts

__all__ = ["Clock", "Controller", "condition", "set_condition"]


class Clock:
    """Sandbox seconds: real seconds times ``speed``."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self._t0 = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._t0) * self.speed


def condition(type_: str, status: bool, reason: str = "", message: str = "", severity: str = "") -> dict[str, Any]:
    c = {"type": type_, "status": "True" if status else "False", "lastTransitionTime": now_ts()}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    if severity and not status:
        c["severity"] = severity
    return c


def set_condition(conditions: list[dict[str, Any]], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Replace a condition by type, keeping lastTransitionTime when the status is unchanged."""
    out = []
    found = False
    for c in conditions:
        if c.get("type") == new["type"]:
            found = True
            merged = dict(new)
            if c.get("status") == new["status"]:
                merged["lastTransitionTime"] = c.get("lastTransitionTime", new["lastTransitionTime"])
            out.append(merged)
        else:
            out.append(c)
    if not found:
        out.append(new)
    return out


def short_hash(*parts: str, n: int = 5) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:n])


class Controller:
    """Base: access to the API, the clock and the scenario."""

    def __init__(self, api: Api, clock: Clock, scenario: Scenario) -> None:
        self.api = api
        self.clock = clock
        self.scenario = scenario
        self._events_sent: set[str] = set()

    def reconcile(self) -> None:
        raise NotImplementedError

    def held(self, kind: str, namespace: str | None, name: str, obj: dict[str, Any] | None) -> bool:
        """Whether a test holds this object (``obj``: its live state, ``None`` when not created
        yet) where it is: ask before creating or changing it, and leave it alone if so (see
        :mod:`acp_install_sandbox.holds`)."""
        return self.api.holds.held(obj, kind=kind, namespace=namespace, name=name)

    def rt(self, api_version: str, kind: str) -> ResourceType | None:
        return self.api.kinds.by_kind(api_version, kind)

    def event(self, involved: dict[str, Any], type_: str, reason: str, message: str, component: str) -> None:
        """Create a core/v1 Event once per (object, reason)."""
        meta = involved["metadata"]
        key = f"{meta.get('uid')}/{reason}"
        if key in self._events_sent:
            return
        self._events_sent.add(key)
        ns = meta.get("namespace") or "default"
        events = next(rt for rt in BUILTIN if rt.plural == "events")
        ts = now_ts()
        with contextlib.suppress(ApiError):
            self.api.create(
                events,
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": f"{meta['name']}.{short_hash(key, n=10)}", "namespace": ns},
                    "involvedObject": {
                        "apiVersion": involved.get("apiVersion"),
                        "kind": involved.get("kind"),
                        "name": meta["name"],
                        "namespace": meta.get("namespace"),
                        "uid": meta.get("uid"),
                    },
                    "type": type_,
                    "reason": reason,
                    "message": message,
                    "source": {"component": component},
                    "reportingComponent": component,
                    "firstTimestamp": ts,
                    "lastTimestamp": ts,
                    "count": 1,
                },
                manager=component,
            )
