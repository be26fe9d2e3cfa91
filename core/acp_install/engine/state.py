"""The work directory's memory: ``<workdir>/.acp-install/state.json`` and its lock.

Why a file next to the user's spec and not in the cluster: the engine must know what it did
(e.g. that the non-idempotent installer POST was sent) even when the cluster is unreachable.
Writes are atomic (temp file + ``os.replace``) so a crash never leaves half a file; a
``filelock`` lock refuses a second concurrent run on the same work directory.

The file holds phase names, times, outcomes, object names and the installer address — never a
secret value (the plan digest is computed over the rendered files with secret placeholders).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import filelock

from ..errors import StateError

STATE_DIR = ".acp-install"
STATE_FILE = "state.json"
LOCK_FILE = "lock"
VERSION = 1


def state_path(workdir: str | os.PathLike[str]) -> Path:
    return Path(workdir) / STATE_DIR / STATE_FILE


def read_state(workdir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The state of a work directory without locking it (for ``status``); None if none."""
    path = state_path(workdir)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise StateError(f"cannot read {path}: {err}",
                         hint="move the file away to start over (the install is not undone)"
                         ) from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise StateError(f"{path} has an unknown format",
                         hint="it was written by another acp-install version; move it away")
    return data


class StateStore:
    """The locked, persisted state of one install. Use as a context manager."""

    def __init__(self, workdir: str | os.PathLike[str]) -> None:
        self.dir = Path(workdir) / STATE_DIR
        self.path = self.dir / STATE_FILE
        self._lock = filelock.FileLock(str(self.dir / LOCK_FILE), timeout=0)
        self.data: dict[str, Any] = {}

    def __enter__(self) -> StateStore:
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise StateError(f"work directory {self.dir.parent} is in use by another "
                             "acp-install run",
                             hint="wait for it to finish, or use another --workdir") from None
        try:
            self.data = read_state(self.dir.parent) or {"version": VERSION, "phases": {}}
        except StateError:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def save(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(self.data, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    # -- phases ---------------------------------------------------------------------------------

    @property
    def phases(self) -> dict[str, dict[str, Any]]:
        phases: dict[str, dict[str, Any]] = self.data.setdefault("phases", {})
        return phases

    def finished(self, phase: str) -> bool:
        return self.phases.get(phase, {}).get("status") == "finished"

    def started(self, phase: str) -> None:
        entry = self.phases.setdefault(phase, {})
        entry.update(status="running", started=time.time())
        entry.pop("error", None)
        self.save()

    def finish(self, phase: str, outcome: str) -> None:
        entry = self.phases.setdefault(phase, {})
        entry.update(status="finished", finished=time.time(), outcome=outcome)
        entry.pop("error", None)
        self.save()

    def fail(self, phase: str, error: str) -> None:
        entry = self.phases.setdefault(phase, {})
        entry.update(status="failed", error=error, failed=time.time())
        self.save()

    def interrupted(self, phase: str) -> None:
        """Cancelled, SIGINT or SIGTERM mid-phase: not finished, so the next run re-checks it."""
        entry = self.phases.setdefault(phase, {})
        entry.update(status="interrupted", error="interrupted", failed=time.time())
        self.save()

    # -- free-form notes (installer address, POST sent...) ------------------------------------

    def note(self, key: str, **values: Any) -> None:
        section: dict[str, Any] = self.data.setdefault(key, {})
        section.update(values)
        self.save()

    def get_note(self, key: str) -> dict[str, Any]:
        section: dict[str, Any] = self.data.get(key) or {}
        return section
