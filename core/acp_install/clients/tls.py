"""TLS contexts built once per process.

Building a context parses every certificate of its trust store (~10 ms of CPU), and httpx builds
one for every client it makes, plain ``http://`` included: the preflight probes, the registry
and installer clients each paid it on every run (a sixth of the test suite's CPU). A context is
safe to share between threads and connections once configured; httpcore sets only the ALPN
protocols on it per connection, the same ``http/1.1`` for every client here.
"""

from __future__ import annotations

import functools
import os
import ssl

__all__ = ["httpx_default", "unverified"]


def httpx_default() -> ssl.SSLContext:
    """The context httpx builds for ``verify=True`` (certifi's bundle, or ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR`` when set), built once per value of those two variables."""
    return _httpx_default(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _httpx_default(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    import httpx

    return httpx.create_ssl_context()  # reads the same two variables


@functools.cache
def unverified() -> ssl.SSLContext:
    """A handshake without trust: for probes that ask only whether an address speaks TLS."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx
