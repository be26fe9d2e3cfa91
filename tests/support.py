"""Shared test helpers and constants (imported as ``support``; conftest re-uses them).

Kept out of ``conftest.py`` because several conftest files exist (tests/, tests/sandbox/) and
only one module can be imported under that name.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from acp_install.yamlio import load_all

ROOT = Path(__file__).resolve().parent.parent
#: The dossier beside the clone. Only the few tests that compare our renders or shipped schemas
#: with the published originals read it; they skip (with this reason) when it is absent.
SHARED = ROOT.parent / "shared"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(),
                                  reason="../shared (published CRDs and schemas) not beside the clone")
GOLDEN = Path(__file__).parent / "golden"

#: Secret values used by tests; a test fails if one shows up where it must not.
CANARIES = {
    "ACP_ADMIN_PASSWORD": "canary-admin-9f3e1d",
    "DCS_AUTH_KEY": "canary-dcs-7c2b4a",
    "VSPHERE_PASSWORD": "canary-vsphere-5d8e6f",
    "HCS_PASSWORD": "canary-hcs-1a9c3b",
    "REGISTRY_PASSWORD": "canary-registry-4e7f2a",
    "ENCRYPTION_KEY": "Y2FuYXJ5LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGVzISE=",  # base64 of 32 bytes: a valid aescbc key
}


def objects_of(text: str) -> list[dict[str, Any]]:
    """Every YAML document of a rendered file."""
    return [doc for doc, _index, _line in load_all(text) if doc is not None]


def assert_valid_against_crds(registry: Any, objects: list[dict[str, Any]]) -> int:
    """Every custom resource validates against its CRD (unknown fields are errors)."""
    checked = 0
    for obj in objects:
        if obj.get("apiVersion") == "v1":
            continue
        errors = registry.validate(obj, unknown="error")
        assert not errors, f"{obj['kind']}/{obj['metadata']['name']}: " + "; ".join(map(str, errors))
        checked += 1
    return checked


def b64(value: str) -> str:
    import base64

    return base64.b64encode(value.encode()).decode()


def secret_holders(plain: Path, revealed: Path, values: Iterable[str]) -> set[str]:
    """Check two renders of the same spec for secret hygiene; return the files holding secrets.

    ``plain`` (no ``--include-secrets``) may hold no value, raw or base64; in ``revealed``
    every file holding one must be mode 0600 and every other file 0644.
    """
    import os
    import stat

    values = list(values)
    for path in plain.rglob("*"):
        if path.is_file():
            text = path.read_text()
            for value in values:
                assert value not in text and b64(value) not in text, f"secret leaked into {path.name}"
    holders = set()
    for path in revealed.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text()
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if any(v in text or b64(v) in text for v in values):
            holders.add(str(path.relative_to(revealed)))
            assert mode == 0o600, f"{path.name} holds a secret but is {oct(mode)}"
        else:
            assert mode == 0o644, f"{path.name} is {oct(mode)}"
    return holders


#: Plain-HTTP requests of tests to loopback stand-ins (the sandbox's installer and registry),
#: through one client per test process: ``httpx.get(...)`` builds a client, and with it a TLS
#: context that parses a whole CA bundle (~10 ms of CPU), for every call.
#: No keep-alive: the stand-ins drop and restart connections on purpose, and every request
#: stands alone, as ``httpx.get`` made it.
HTTP = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))


@contextlib.contextmanager
def audit_events(event: str, arg: int) -> Iterator[list[Any]]:
    """``args[arg]`` of every ``event`` audit event raised inside the block (e.g. the address of
    each ``socket.connect``, the host of each ``socket.getaddrinfo``). An audit hook cannot be
    removed: after the block it stays installed and records nothing."""
    seen: list[Any] = []
    active = [True]

    def hook(name: str, args: tuple[Any, ...]) -> None:
        if name == event and active[0]:
            seen.append(args[arg])

    sys.addaudithook(hook)
    try:
        yield seen
    finally:
        active[0] = False
