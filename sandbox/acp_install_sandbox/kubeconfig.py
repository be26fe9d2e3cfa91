"""The kubeconfigs a sandbox writes: CA data, server URL, bearer token.

Two of them: minialauda's (a file, 0600) and the new global cluster's, which is not a file at
all but the Cluster API kubeconfig Secret in minialauda (``<cluster>-kubeconfig``, key
``value``), as the real control-plane provider writes it.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml

__all__ = ["kubeconfig_dict", "kubeconfig_text", "write_kubeconfig"]


def kubeconfig_dict(*, server: str, ca_pem: bytes, token: str, name: str = "minialauda",
                    user: str | None = None, context: str | None = None,
                    namespace: str = "default") -> dict[str, Any]:
    user = user or f"{name}-admin"
    context = context or name
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": name, "user": user, "namespace": namespace}}],
        "current-context": context,
        "preferences": {},
    }


def kubeconfig_text(**kwargs: Any) -> str:
    """:func:`kubeconfig_dict` as YAML."""
    return str(yaml.safe_dump(kubeconfig_dict(**kwargs), sort_keys=False))


def write_kubeconfig(path: Path, *, server: str, ca_pem: bytes, token: str, name: str = "minialauda") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(kubeconfig_text(server=server, ca_pem=ca_pem, token=token, name=name))
    return path
