"""The cluster-side guard around the installer request: one POST, whoever sends it.

Why: the work directory's lock and state file keep one work directory from sending the request
twice, but two installs started from *different* work directories (two operators, a copied
directory, a CI job beside a terminal) each see an idle installer and each POST — and a real
installer that accepts the second request runs two installs. The installer API has no
compare-and-set, so the guard lives beside it, in the bootstrap cluster: a ConfigMap in
``cpaas-system`` that only one client can *create* (the API server answers the second with 409).
It names its holder (work directory, host, process, time) so the refusal says who has it, and
it is deleted as soon as the request's outcome is recorded.

The holder id is kept in the state file, so a run resumed after a crash recognises the guard it
took itself and goes on (then releases it); any other run is refused until the guard is gone.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from typing import TYPE_CHECKING, Any

from ..errors import StateError

if TYPE_CHECKING:
    from ..clients.kube import KubeClient
    from ..clients.retry import Deadline
    from .state import StateStore

GUARD_NAME = "acp-install-installer-guard"
GUARD_NAMESPACE = "cpaas-system"
_KEY = "guard"  # the state note holding this work directory's holder id


def holder_id(state: StateStore) -> str:
    """This work directory's holder id (created once, kept in the state file)."""
    note = state.get_note(_KEY)
    ident = note.get("id")
    if not isinstance(ident, str) or not ident:
        ident = uuid.uuid4().hex
        state.note(_KEY, id=ident)
    return ident


def _guard(ident: str, workdir: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": GUARD_NAME, "namespace": GUARD_NAMESPACE,
                     "labels": {"app.kubernetes.io/managed-by": "acp-install"}},
        "data": {"holder": ident, "workdir": os.path.abspath(workdir), "host": socket.gethostname(),
                 "pid": str(os.getpid()),
                 "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
    }


def acquire(kube: KubeClient, state: StateStore, workdir: str, deadline: Deadline) -> None:
    """Take the guard, or raise :class:`StateError` naming the run that holds it."""
    ident = holder_id(state)
    if kube.create(_guard(ident, workdir), deadline=deadline) is not None:
        return
    held = kube.get("v1", "ConfigMap", GUARD_NAME, GUARD_NAMESPACE, deadline=deadline)
    data = (held or {}).get("data") or {}
    if held is None:  # released between our create and our read: try once more
        if kube.create(_guard(ident, workdir), deadline=deadline) is not None:
            return
        held = kube.get("v1", "ConfigMap", GUARD_NAME, GUARD_NAMESPACE, deadline=deadline)
        data = (held or {}).get("data") or {}
    if data.get("holder") == ident:  # ours: taken by an earlier run of this work directory
        return
    raise StateError(
        f"another acp-install run is sending the installer request: work directory "
        f"{data.get('workdir', '?')} on host {data.get('host', '?')} (pid {data.get('pid', '?')}, "
        f"since {data.get('since', '?')}); the request is sent once, by that run",
        hint="wait for that run (its `status` shows the request), then re-run this one to "
             "follow the install; if that run is gone for good, remove its guard: kubectl -n "
             f"{GUARD_NAMESPACE} delete configmap {GUARD_NAME}")


def release(kube: KubeClient, state: StateStore, deadline: Deadline) -> None:
    """Delete the guard if this work directory holds it (another run's guard stays)."""
    held = kube.get("v1", "ConfigMap", GUARD_NAME, GUARD_NAMESPACE, deadline=deadline)
    if held is not None and ((held.get("data") or {}).get("holder") == state.get_note(_KEY).get("id")):
        kube.delete("v1", "ConfigMap", GUARD_NAME, GUARD_NAMESPACE, deadline=deadline)
