"""The local registry's OCI distribution API (seed Step 3), read-only, through ``httpx``.

One question is asked: which tags does repository ``<name>`` hold
(``GET /v2/<name>/tags/list``)? That is how the engine checks, whatever pushed them, that every
chart and version the AppReleases reference is in minialauda's registry before any AppRelease
is applied. Plain HTTP, as the reference's registry URL
(``http://${LOCAL_REGISTRY_ADDRESS}/v2/...``) says.

Authentication is what the registry asks for in its ``401`` challenge
(``WWW-Authenticate``): ``Basic`` is answered with the spec's registry account; ``Bearer``
(distribution's token auth) by fetching a token from the challenge's ``realm`` with that
account (or anonymously when the spec has none), then asking again with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from ..errors import PackageError
from . import tls
from .redact import Redactor
from .retry import Deadline, retry_call

__all__ = ["RegistryClient", "parse_challenge"]

TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="...",service="..."`` -> ``("bearer", {"realm": ..., "service": ...})``."""
    scheme, _, rest = header.strip().partition(" ")
    params = {k.lower(): v for k, v in re.findall(r'(\w+)="([^"]*)"', rest)}
    return scheme.lower(), params


class _Transient(Exception):
    """A 5xx/429 or a connection failure: worth asking again within the deadline."""


class RegistryClient:
    """Tags of repositories in the registry at ``address`` (``host:port``)."""

    def __init__(self, address: str, *, username: str | None = None, password: str | None = None,
                 on_retry: Callable[[str], None] | None = None, redact: Redactor | None = None,
                 request_timeout: float = 30.0, answer_within: float = 120.0) -> None:
        self.address = address
        self.answer_within = answer_within
        self.base = f"http://{address}"
        self._auth = (username, password) if username is not None and password is not None else None
        self._on_retry = on_retry
        self._redact = redact or Redactor()
        self._http = httpx.Client(timeout=request_timeout, verify=tls.httpx_default())
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def tags(self, repository: str, *, deadline: Deadline) -> list[str] | None:
        """The tags of ``repository``; ``None`` when the registry does not know it (404)."""

        def ask() -> list[str] | None:
            resp = self._get(f"/v2/{repository}/tags/list")
            if resp.status_code == 404:
                return None
            self._raise_for(resp, repository)
            body = _json_object(resp)
            tags = body.get("tags") if body is not None else None
            if body is None or not isinstance(tags, list | None):
                # JSON of another shape (a list, a string) is no registry's answer either
                raise PackageError(f"the local registry {self.address} answered "
                                   f"/v2/{repository}/tags/list with something that is not a "
                                   "JSON object with a tags list",
                                   hint="check LOCAL_REGISTRY_ADDRESS (localRegistryAddress): "
                                        "is it minialauda's registry?")
            return [str(t) for t in tags or []]

        def on_retry(err: BaseException, sleep: float) -> None:
            if self._on_retry is not None:
                self._on_retry(f"local registry {self.address}: {err}; retrying in {sleep:.1f}s")

        try:
            # a registry that is not there stays not there: two minutes at most, within the phase
            return retry_call(ask, transient=lambda e: isinstance(e, _Transient),
                              deadline=deadline.within(self.answer_within), on_retry=on_retry)
        except _Transient as err:
            raise PackageError(f"the local registry {self.address} does not answer: {err}",
                               hint="is minialauda up (setup.sh finished)? check "
                                    "localRegistryAddress (LOCAL_REGISTRY_ADDRESS, the registry "
                                    "as seen from this host)") from None

    # -- HTTP ---------------------------------------------------------------------------------

    def _send(self, url: str, headers: dict[str, str] | None = None,
              auth: tuple[str, str] | None = None, params: dict[str, str] | None = None
              ) -> httpx.Response:
        try:
            resp = self._http.get(url, headers=headers, auth=auth, params=params)
        except httpx.TransportError as err:
            raise _Transient(_wire_reason(err)) from None
        if resp.status_code in TRANSIENT_STATUS:
            raise _Transient(f"HTTP {resp.status_code}")
        return resp

    def _get(self, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else None
        resp = self._send(self.base + path, headers=headers,
                          auth=self._auth if self._token is None and self._basic else None)
        if resp.status_code != 401:
            return resp
        scheme, params = parse_challenge(resp.headers.get("www-authenticate", ""))
        if scheme == "basic":
            if self._auth is None:
                raise PackageError(
                    f"the local registry {self.address} asks for a user name and password "
                    "(Basic) and the spec has no registry account",
                    hint="set credentials.registry (username, password reference) in the spec")
            self._basic = True
            resp = self._send(self.base + path, auth=self._auth)
        elif scheme == "bearer" and params.get("realm"):
            self._token = self._fetch_token(params)
            resp = self._send(self.base + path, headers={"Authorization": f"Bearer {self._token}"})
        if resp.status_code == 401:
            raise PackageError(
                f"the local registry {self.address} refused "
                f"{'the registry account of the spec' if self._auth else 'anonymous access'} "
                f"({scheme or 'no challenge'})",
                hint="check credentials.registry (the account setup.sh created the registry with)")
        return resp

    _basic = False

    def _fetch_token(self, params: dict[str, str]) -> str:
        query = {k: params[k] for k in ("service", "scope") if params.get(k)}
        resp = self._send(params["realm"], auth=self._auth, params=query)
        if resp.status_code != 200:
            raise PackageError(
                f"the token service of the local registry {self.address} refused "
                f"{'the registry account of the spec' if self._auth else 'anonymous access'} "
                f"(HTTP {resp.status_code})",
                hint="check credentials.registry (the account setup.sh created the registry with)")
        body = _json_object(resp)
        token = (body.get("token") or body.get("access_token")) if body is not None else None
        if not token or not isinstance(token, str):
            raise PackageError(f"the token service of the local registry {self.address} "
                               "answered without a token")
        return str(token)

    def _raise_for(self, resp: httpx.Response, repository: str) -> None:
        if resp.status_code == 200:
            return
        body = _json_object(resp)
        errors = body.get("errors") if body is not None else None
        if isinstance(errors, list) and errors and all(isinstance(e, dict) for e in errors):
            detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
        else:
            detail = resp.text[:200]
        raise PackageError(f"the local registry {self.address} answered HTTP {resp.status_code} "
                           f"for /v2/{repository}/tags/list: {self._redact(detail)}")


def _json_object(resp: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object; ``None`` for anything else (not JSON, or a list, a string):
    a registry's answers are objects, and ``.get`` on another shape is an internal error."""
    try:
        body = resp.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _wire_reason(err: httpx.TransportError) -> str:
    text = str(err) or type(err).__name__
    if isinstance(err, httpx.ConnectError) and "refused" in text.lower():
        return "connection refused"
    if isinstance(err, httpx.TimeoutException):
        return "timed out"
    return f"{type(err).__name__}: {text.splitlines()[0][:200]}"
