"""Deadlines and transient-error retries shared by both clients.

Why one helper: every network call of the engine lives inside a phase deadline, and a retry
must never outlive it. Backoff is exponential with full jitter (tenacity's
``wait_random_exponential``) so many installs against one API server do not retry in lockstep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import tenacity

T = TypeVar("T")


class Deadline:
    """A point in monotonic time; ``remaining()`` never goes below zero."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = time.monotonic()
        self.end = self.start + seconds

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def within(self, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now, but not later than this one."""
        return Deadline(min(seconds, self.remaining()))


def retry_call(fn: Callable[[], T], *, transient: Callable[[BaseException], bool],
               deadline: Deadline, on_retry: Callable[[BaseException, float], None] | None = None,
               max_wait: float = 5.0) -> T:
    """Call ``fn``; retry transient failures with backoff + jitter until ``deadline``.

    The last error is re-raised unchanged when the deadline passes or the error is permanent.
    """

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
        reraise=True,
    )
    return retrying(fn)
