"""TLS contexts built once per process.

Building a context that trusts the system store parses every certificate in it (~10 ms of
CPU), and httpx builds one for every client it makes, plain ``http://`` included: the preflight
probes, the registry and installer clients each paid it on every run (a sixth of the test
suite's CPU). A context is safe to share between threads and connections once configured.
"""

from __future__ import annotations

import functools
import ssl

__all__ = ["system_trust", "unverified"]


@functools.cache
def system_trust() -> ssl.SSLContext:
    """Verify peers against the system trust store (what httpx does by default)."""
    return ssl.create_default_context()


@functools.cache
def unverified() -> ssl.SSLContext:
    """A handshake without trust: for probes that ask only whether an address speaks TLS."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx
