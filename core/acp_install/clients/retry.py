"""Deadlines, cancellation and transient-error retries shared by both clients.

Why one helper: every network call of the engine lives inside a phase deadline, and a retry
must never outlive it. Backoff is exponential with full jitter (tenacity's
``wait_random_exponential``) so many installs against one API server do not retry in lockstep.

Why the cancel token rides on the deadline: every wait already takes one, so a
:meth:`Engine.cancel() <acp_install.engine.Engine.cancel>` reaches each backoff sleep, poll and
watch without a second parameter threaded through every call.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import tenacity

from ..errors import Interrupted

T = TypeVar("T")

log = logging.getLogger(__name__)

_RESUME_HINT = "re-run the same command to resume"


class Cancel:
    """A one-way switch set from any thread (or a signal handler); waits on it wake at once.

    Blocking reads that an :class:`threading.Event` cannot wake (a Kubernetes watch stream)
    register a callback with :meth:`on_cancel` that unblocks them (shuts their socket down).
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        # Re-entrant: a signal handler may call set() while this thread holds the lock.
        self._lock = threading.RLock()
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._ids = itertools.count()

    def set(self) -> None:
        """Cancel: every current and future wait returns early; callbacks run once, here."""
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks = list(self._callbacks.values())
        for callback in callbacks:
            try:
                callback()
            except Exception:  # unblocking is best effort; the waits check the flag anyway
                log.debug("cancel callback %r failed", callback, exc_info=True)

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True (at once) when cancelled."""
        return self._event.wait(max(0.0, seconds))

    @contextlib.contextmanager
    def on_cancel(self, callback: Callable[[], None]) -> Iterator[None]:
        """Run ``callback`` if cancelled while the block runs (at once if already cancelled)."""
        key = next(self._ids)
        with self._lock:
            self._callbacks[key] = callback
            already = self._event.is_set()
        if already:
            callback()
        try:
            yield
        finally:
            with self._lock:
                self._callbacks.pop(key, None)

    def check(self, what: str = "") -> None:
        """Raise :class:`~acp_install.errors.Interrupted` when cancelled."""
        if self.is_set():
            raise Interrupted(f"cancelled{' during ' + what if what else ''}", hint=_RESUME_HINT)


class Deadline:
    """A point in monotonic time; ``remaining()`` never goes below zero.

    ``cancel`` (shared by every deadline :meth:`within` this one) cuts every wait short.
    """

    def __init__(self, seconds: float, *, cancel: Cancel | None = None) -> None:
        self.seconds = seconds
        self.start = time.monotonic()
        self.end = self.start + seconds
        self.cancel = cancel if cancel is not None else Cancel()

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.end

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def within(self, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now, but not later than this one (same cancel token)."""
        return Deadline(min(seconds, self.remaining()), cancel=self.cancel)

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (never past the deadline); :class:`Interrupted` when cancelled."""
        if self.cancel.wait(min(seconds, self.remaining())):
            self.cancel.check()


def retry_call(fn: Callable[[], T], *, transient: Callable[[BaseException], bool],
               deadline: Deadline, on_retry: Callable[[BaseException, float], None] | None = None,
               max_wait: float = 5.0) -> T:
    """Call ``fn``; retry transient failures with backoff + jitter until ``deadline``.

    The last error is re-raised unchanged when the deadline passes or the error is permanent;
    a cancel during a backoff sleep raises :class:`~acp_install.errors.Interrupted`.
    """
    deadline.cancel.check()

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if on_retry is not None and state.outcome is not None:
            err = state.outcome.exception()
            if err is not None:
                on_retry(err, state.next_action.sleep if state.next_action else 0.0)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(transient),
        wait=tenacity.wait_random_exponential(multiplier=0.2, max=max_wait),
        stop=tenacity.stop_before_delay(max(deadline.remaining(), 0.001)),
        before_sleep=before_sleep,
        sleep=deadline.sleep,
        reraise=True,
    )
    return retrying(fn)
