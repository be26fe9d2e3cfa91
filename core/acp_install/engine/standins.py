"""What a sandbox announces about itself: its loopback stand-ins for the site's addresses.

A sandbox (``acp-install-sandbox``) is an emulated minialauda on loopback. The spec's
addresses (``localRegistryAddress``, the VIP, the platform host...) are the site's, and a run
against a sandbox must never probe them. So the sandbox announces itself to every client of its
API with the ConfigMap ``kube-public/acp-install-sandbox``, whose data maps a spec field to the
loopback stand-in that replaces it. The engine takes a stand-in only when it is on 127.0.0.0/8
(anything else in that ConfigMap is ignored with a warning): a cluster that merely claims to be
a sandbox cannot redirect the engine off the host.

Today the engine reads ``localRegistryAddress``; checks that probe other addresses read their
own keys here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..clients.kube import KubeClient
    from ..clients.retry import Deadline
    from .phases import Context

__all__ = ["ANNOUNCEMENT", "NAMESPACE", "announced", "announcement", "is_loopback_address"]

ANNOUNCEMENT = "acp-install-sandbox"
NAMESPACE = "kube-public"


def is_loopback_address(host_port: str) -> bool:
    """``127.x.y.z:port`` (or ``[::1]:port``)."""
    host = host_port.rpartition(":")[0].strip("[]") if ":" in host_port else host_port
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def announced(ctx: Context) -> Mapping[str, str]:
    """Spec field -> loopback stand-in, when the cluster is a sandbox; empty otherwise."""
    return announcement(ctx.kube, warn=ctx.warn, deadline=ctx.dl.within(30))


def announcement(kube: KubeClient, *, warn: Callable[[str], None] | None = None,
                 deadline: Deadline | None = None) -> Mapping[str, str]:
    """:func:`announced` for any client (``acp-install preflight`` has no phase context)."""
    cm = kube.get("v1", "ConfigMap", ANNOUNCEMENT, NAMESPACE, deadline=deadline)
    if cm is None:
        return {}
    out: dict[str, str] = {}
    for key, value in (cm.get("data") or {}).items():
        if is_loopback_address(str(value)):
            out[str(key)] = str(value)
        elif warn is not None:
            warn(f"the sandbox announcement {NAMESPACE}/{ANNOUNCEMENT} names {key}={value}, "
                 "which is not a loopback address: ignored")
    return out


def field_or_standin(ctx: Context, field: str, value: str) -> tuple[str, str]:
    """``(address, where it came from)``: the announced stand-in of ``field``, else ``value``."""
    standin = announced(ctx).get(field)
    if standin is not None:
        return standin, "the sandbox's stand-in"
    return value, f"spec {field}"
