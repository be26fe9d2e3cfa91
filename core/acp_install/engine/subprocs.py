"""Running a tool of the procedure (``setup.sh``, ``packtool``) with its output streamed.

Why one helper: both Step 2's ``setup.sh`` and Step 3's ``packtool`` run for minutes and say
what they do on stdout/stderr. Each line becomes a progress event (so the run log and every
subscriber see it as it happens, secrets redacted by the engine like any event), the last lines
are kept for the error message (a failure is explained in the tool's own words), and the wait
honours the phase deadline and :meth:`Engine.cancel() <acp_install.engine.Engine.cancel>`:
the tool (its whole process group) is sent SIGTERM, then SIGKILL, and never left running.
"""

from __future__ import annotations

import collections
import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from ..errors import AcpInstallError, Interrupted

if TYPE_CHECKING:
    from .phases import Context

__all__ = ["Finished", "run_streamed"]

TAIL = 20
#: seconds to keep reading after the tool exited: a child it left in the background may hold
#: its stdout open for ever, and the tool's own exit code is the answer, not that child's end
DRAIN = 2.0


@attrs.frozen
class Finished:
    """How the tool ended: its exit code (``None``: stopped at the deadline) and last lines."""

    returncode: int | None
    tail: tuple[str, ...]
    lines: int

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def words(self) -> str:
        """The tool's last lines, for an error message."""
        return "\n".join(f"  | {line}" for line in self.tail) if self.tail else "  (no output)"

    def raise_unless_ok(self, error: type[AcpInstallError], *, stopped: str, failed: str, said: str,
                        fix: str, timeout: str, seconds: float, last: str = "lines") -> None:
        """Raise ``error`` unless the tool exited 0, in the tool's own words either way, so
        every phase that runs one explains its end alike: stopped at the deadline (``stopped``,
        the ``seconds`` it had, its last ``last``, and ``--timeout <timeout>=SECONDS`` as the
        hint) or a non-zero exit (``failed``, the exit code, what ``said`` said; ``fix`` as the
        hint)."""
        if self.returncode is None:
            raise error(f"{stopped} ({seconds:.0f}s); it was stopped. Its last {last}:\n{self.words()}",
                        hint=f"raise it with --timeout {timeout}=SECONDS and re-run")
        if not self.ok:
            raise error(f"{failed} (exit {self.returncode}); {said} said:\n{self.words()}", hint=fix)


def _reader(stream: object, out: queue.Queue[str | None]) -> None:
    try:
        for raw in stream:  # type: ignore[attr-defined]
            out.put(raw.decode(errors="replace").rstrip("\r\n"))
    finally:
        out.put(None)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the tool's process group, SIGKILL if it lingers; then SIGKILL to whatever of
    the group is still there (a child the tool left behind), so nothing of it keeps running."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(grace)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def run_streamed(ctx: Context, argv: Sequence[str], *, label: str, cwd: str | Path | None = None,
                 env: Mapping[str, str] | None = None) -> Finished:
    """Run ``argv``; each output line is a progress event ``label: line``.

    Returns when the tool exits or the phase deadline passes (``returncode`` ``None``: the
    tool was stopped). A cancel stops the tool and raises
    :class:`~acp_install.errors.Interrupted`. An executable that cannot be started raises
    :class:`OSError` (the caller says which file and what to fix).
    """
    proc = subprocess.Popen([str(a) for a in argv], cwd=cwd, env=dict(env) if env is not None else None,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    lines: queue.Queue[str | None] = queue.Queue()
    thread = threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True,
                              name=f"acp-install-{label}")
    thread.start()
    tail: collections.deque[str] = collections.deque(maxlen=TAIL)
    count = 0
    dl = ctx.dl
    stopped = False
    drain_until: float | None = None  # set once the tool has exited
    eof = False

    def take(line: str) -> None:
        nonlocal count
        count += 1
        tail.append(line)
        ctx.progress(f"{label}: {line}")

    try:
        with dl.cancel.on_cancel(lambda: lines.put(None)):
            while True:
                if dl.cancelled:
                    _stop(proc)
                    raise Interrupted(f"cancelled while {label} ran (stopped it)",
                                      hint="re-run the same command to resume")
                if drain_until is None and proc.poll() is not None:
                    drain_until = time.monotonic() + DRAIN
                if drain_until is not None and time.monotonic() >= drain_until:
                    break  # exited; what is left comes after its leftovers are stopped
                if dl.expired:
                    if proc.poll() is None:
                        _stop(proc)
                        stopped = True
                    break
                wait = dl.remaining() if drain_until is None else drain_until - time.monotonic()
                try:
                    # short polls while the tool runs: its exit is noticed without the end of
                    # output, which a backgrounded child holding stdout would never send
                    line = lines.get(timeout=min(0.2, max(wait, 0.01)))
                except queue.Empty:
                    continue
                if line is None:
                    if dl.cancelled:
                        continue  # the cancel callback's wake-up: handled above
                    eof = True
                    break
                take(line)
    finally:
        if proc.poll() is None and (stopped or dl.cancelled):
            _stop(proc)
    code = None if stopped else proc.wait()
    if not eof:
        # what the tool left running in its process group still holds the pipe open: it goes
        # too, so the reader sees the end of output and every line already written is read
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    thread.join(5)
    while True:
        try:
            line = lines.get_nowait()
        except queue.Empty:
            break
        if line is not None:
            take(line)
    if proc.stdout is not None:
        proc.stdout.close()
    return Finished(code, tuple(tail), count)
