"""The heartbeat: while a phase waits and nothing else is said, a line every ``interval``.

A control plane takes tens of minutes; a terminal that shows nothing for that long looks hung.
Every event the engine emits resets the heartbeat, so it only speaks into silence: a
:class:`~acp_install.engine.events.PhaseProgress` saying what is awaited and for how long
(``waiting 4m30s: KubeadmControlPlane global-kcp Ready (1/3 ready)``).

It runs in a thread of its own because the engine's own thread may be blocked in a watch whose
server-side timeout is longer than the interval; the engine serialises event delivery, so a
subscriber never sees two events at once. :meth:`Heartbeat.tick` is the whole decision, on an
injectable clock, so it is tested without the thread and without real time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["Heartbeat", "format_elapsed"]

log = logging.getLogger(__name__)


def format_elapsed(seconds: float) -> str:
    """``45s``, ``4m30s``, ``1h02m``: short enough for a progress line."""
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


class Heartbeat:
    """Says ``beat(elapsed)`` when ``interval`` seconds passed without any event.

    Args:
        interval: seconds of silence before a heartbeat line (and between two of them).
        beat: called with nothing; returns False when there is nothing to say (no phase
            running), True when it emitted a line.
        clock: monotonic seconds (a fake one in tests).
    """

    def __init__(self, interval: float, beat: Callable[[], bool], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._beat = beat
        self._clock = clock
        self._last = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def touch(self) -> None:
        """Something was said: the silence starts again now."""
        self._last = self._clock()

    def tick(self) -> bool:
        """One decision: beat if the silence lasted ``interval``; True if it beat."""
        if self._clock() - self._last < self.interval:
            return False
        said = self._beat()
        self._last = self._clock()  # also when there was nothing to say: check again later
        return said

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="acp-install-heartbeat",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        # wake often enough that a beat is late by at most a tenth of the interval
        step = max(0.05, min(1.0, self.interval / 10))
        while not self._stop.wait(step):
            try:
                self.tick()
            except Exception:  # a heartbeat must never take the install down
                log.exception("heartbeat failed")
