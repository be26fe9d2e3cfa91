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
import logging
import os
import time
from pathlib import Path
from typing import Any

import filelock

from ..errors import StateError
from ..inputs import UnreadableInput, read_text

STATE_DIR = ".acp-install"
STATE_FILE = "state.json"
LOCK_FILE = "lock"
SCRATCH_DIR = "tmp"
VERSION = 1


log = logging.getLogger(__name__)

EVENTS_FILE = "events.jsonl"
#: the event log is rotated (one older file kept) past this size
EVENTS_MAX = 4 * 1024 * 1024


def state_path(workdir: str | os.PathLike[str]) -> Path:
    return Path(workdir) / STATE_DIR / STATE_FILE


def events_path(workdir: str | os.PathLike[str]) -> Path:
    return Path(workdir) / STATE_DIR / EVENTS_FILE


class EventLog:
    """The run's events, one JSON object a line, appended to ``.acp-install/events.jsonl``.

    Why on disk: a support bundle (``acp-install gather``) needs what the runs said, and a
    terminal's scrollback is gone by then. Events reach it already redacted (the engine emits
    them through its redactor); the file is 0600 like the state file, one older file is kept
    past :data:`EVENTS_MAX`. Writing is best effort: a full disk must not fail an install.
    """

    def __init__(self, workdir: str | os.PathLike[str]) -> None:
        self.path = events_path(workdir)

    def write(self, data: dict[str, Any]) -> None:
        line = json.dumps({"time": round(time.time(), 3), **data}, sort_keys=True, default=str) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size > EVENTS_MAX:
                os.replace(self.path, self.path.with_suffix(".1.jsonl"))
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a") as fh:
                fh.write(line)
        except OSError:
            log.debug("event log %s not written", self.path, exc_info=True)


def read_state(workdir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The state of a work directory without locking it (for ``status``); None if none."""
    path = state_path(workdir)
    if not os.path.lexists(path):
        if path.parent.exists() and not path.parent.is_dir():
            raise StateError(f"{path.parent} is not a directory (acp-install keeps its state there)",
                             hint="move that file away, or use another --workdir")
        return None
    hint = "move the file away to start over (the install is not undone)"
    try:
        data = json.loads(read_text(path, limit=MAX_STATE_BYTES, what="state file"))
    except UnreadableInput as err:
        raise StateError(f"cannot read {path}: {err.message}", hint=hint) from None
    except ValueError as err:
        raise StateError(f"cannot read {path}: not JSON ({err})", hint=hint) from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise StateError(f"{path} has an unknown format",
                         hint="it was written by another acp-install version; move it away")
    problem = _shape_problem(data)
    if problem:
        raise StateError(f"{path} is damaged: {problem}", hint=hint)
    return data


#: A state file is a few KB; anything far larger is not one.
MAX_STATE_BYTES = 4 << 20
_SECTIONS = ("phases", "installer", "guard")


def _shape_problem(data: dict[str, Any]) -> str | None:
    """What is wrong with the types of a state file, or None: every reader indexes into
    ``phases`` and the notes as mappings, so a damaged (hand-edited, half-restored) file is
    refused here with the key named instead of failing later with a type error."""
    for key in _SECTIONS:
        if key in data and data[key] is not None and not isinstance(data[key], dict):
            return f"{key} is a {type(data[key]).__name__}, expected a mapping"
    for name, entry in (data.get("phases") or {}).items():
        if not isinstance(entry, dict):
            return f"phases.{name} is a {type(entry).__name__}, expected a mapping"
        if not isinstance(entry.get("status", ""), str):
            return f"phases.{name}.status is not a string"
    for key in ("plan", "provider", "cluster"):
        if key in data and not isinstance(data[key], str | None):
            return f"{key} is not a string"
    return None


class StateStore:
    """The locked, persisted state of one install. Use as a context manager."""

    def __init__(self, workdir: str | os.PathLike[str]) -> None:
        self.dir = Path(workdir) / STATE_DIR
        self.path = self.dir / STATE_FILE
        self._lock = filelock.FileLock(str(self.dir / LOCK_FILE), timeout=0)
        self.data: dict[str, Any] = {}

    def __enter__(self) -> StateStore:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self.dir.chmod(0o700)
        except FileExistsError:
            raise StateError(f"{self.dir} is not a directory (acp-install keeps its state there)",
                             hint="move that file away, or use another --workdir") from None
        except OSError as err:
            raise StateError(f"cannot create the state directory {self.dir}: "
                             f"{err.strerror or err}",
                             hint="give a --workdir on a writable file system") from None
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise StateError(f"work directory {self.dir.parent} is in use by another "
                             "acp-install run",
                             hint="wait for it to finish, or use another --workdir") from None
        except OSError as err:
            raise StateError(f"cannot lock {self.dir / LOCK_FILE}: {err.strerror or err}",
                             hint="it must be a plain file: move whatever is there away") from None
        try:
            self.data = read_state(self.dir.parent) or {"version": VERSION, "phases": {}}
        except StateError:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def scratch(self) -> Path:
        """``.acp-install/tmp`` (0700), emptied first: the files a run writes while it runs
        (discovery cache, a client key from the kubeconfig) live here, not in ``$TMPDIR``, so
        what a SIGKILL leaves behind stays private to the work directory and is removed by the
        next run (which holds the lock: no other run is using them)."""
        import shutil

        path = self.dir / SCRATCH_DIR
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(mode=0o700)
        return path

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
