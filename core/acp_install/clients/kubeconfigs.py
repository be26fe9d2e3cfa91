"""Which kubeconfig a command uses, and how the new global cluster's is found.

Two clusters, two sources:

- **minialauda** (the bootstrap cluster) is resolved as kubectl does it: ``--kubeconfig``,
  else ``$KUBECONFIG`` (a path list, merged as kubectl merges it), else ``~/.kube/config``
  (where the seed's Step 2 copies ``/var/cpaas/data/alauda.kubeconfig``).
- **the new global cluster** is reached through the Cluster API kubeconfig Secret in
  minialauda (upstream convention: ``<cluster>-kubeconfig`` in the Cluster's namespace, key
  ``value``), like ``clusterctl get kubeconfig``; ``--global-kubeconfig FILE`` overrides it.

The kubeconfig of the new cluster carries credentials: it is held in memory (never written
unless the user asks with ``acp-install kubeconfig --out``), and its secret values are handed
to the run's redactor.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..errors import ClusterError, UsageError

if TYPE_CHECKING:
    from .kube import KubeClient
    from .redact import Redactor
    from .retry import Deadline

__all__ = ["KUBECONFIG_KEY", "GlobalKubeconfig", "default_kubeconfig", "global_kubeconfig",
           "kubeconfig_secret_name", "resolve_kubeconfig"]

#: the key of the Cluster API kubeconfig Secret that holds the kubeconfig
KUBECONFIG_KEY = "value"
#: where the seed's Step 2 copies minialauda's kubeconfig
DEFAULT_PATH = "~/.kube/config"
MINIALAUDA_HINT = ("pass --kubeconfig (minialauda's is /var/cpaas/data/alauda.kubeconfig), set "
                   "$KUBECONFIG, or copy it to ~/.kube/config as the seed's Step 2 does")


def kubeconfig_secret_name(cluster: str) -> str:
    """The Cluster API convention: Secret ``<cluster>-kubeconfig``."""
    return f"{cluster}-kubeconfig"


def default_kubeconfig(environ: Mapping[str, str] | None = None) -> str | None:
    """``$KUBECONFIG`` if set and not empty, else ``~/.kube/config`` if it exists, else None."""
    env = os.environ if environ is None else environ
    value = env.get("KUBECONFIG", "")
    if value.strip(os.pathsep).strip():
        return value
    path = Path(DEFAULT_PATH).expanduser()
    return str(path) if path.is_file() else None


def resolve_kubeconfig(flag: str | None, *, environ: Mapping[str, str] | None = None) -> str:
    """minialauda's kubeconfig as kubectl finds it: the flag, ``$KUBECONFIG``, ``~/.kube/config``.

    ``$KUBECONFIG`` may be a list of paths (``a:b``): it is returned as is and the client merges
    the files like kubectl. Raises :class:`UsageError` (exit 2) when none is there.
    """
    if flag:
        return flag
    found = default_kubeconfig(environ)
    if found is None:
        raise UsageError("no kubeconfig: --kubeconfig not given, $KUBECONFIG not set and "
                         f"{DEFAULT_PATH} does not exist", hint=MINIALAUDA_HINT)
    return found


class GlobalKubeconfig:
    """The new global cluster's kubeconfig, parsed, with where it came from.

    ``text`` holds credentials: ``repr`` shows only the source.
    """

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            data = None
        if not isinstance(data, dict) or not data.get("clusters"):
            raise ClusterError(f"{source} does not hold a kubeconfig",
                               hint="check the Secret (kubectl get secret -o yaml) or pass "
                                    "--global-kubeconfig FILE")
        self.config: dict[str, Any] = data

    def __repr__(self) -> str:
        return f"GlobalKubeconfig(source={self.source!r})"

    @property
    def cluster(self) -> dict[str, Any]:
        """The current context's cluster entry (server, CA, TLS settings)."""
        contexts = {c.get("name"): c.get("context") or {} for c in self.config.get("contexts") or []}
        current = contexts.get(self.config.get("current-context")) or {}
        clusters = {c.get("name"): c.get("cluster") or {} for c in self.config.get("clusters") or []}
        found: dict[str, Any] = clusters.get(current.get("cluster")) or next(iter(clusters.values()), {})
        return found

    @property
    def server(self) -> str:
        return str(self.cluster.get("server", "?"))

    def secret_values(self) -> Iterator[str]:
        """Every credential in it (tokens, keys, passwords), for the redactor."""
        for user in self.config.get("users") or []:
            creds = user.get("user") or {}
            for key in ("token", "client-key-data", "password"):
                if creds.get(key):
                    yield str(creds[key])

    def client(self, *, redact: Redactor | None = None, **options: Any) -> KubeClient:
        from .kube import KubeClient

        if redact is not None:
            for value in self.secret_values():
                redact.add(value)
        return KubeClient(self.source, config_dict=self.config, redact=redact,
                          role="the new global cluster", **options)


def global_kubeconfig(kube: KubeClient | None, *, namespace: str = "cpaas-system",
                      cluster: str = "global", override: str | os.PathLike[str] | None = None,
                      deadline: Deadline | None = None) -> GlobalKubeconfig | None:
    """The new global cluster's kubeconfig: ``override`` (a file) if given, else the Cluster API
    Secret read from minialauda; ``None`` while that Secret does not exist yet."""
    if override is not None:
        path = Path(override)
        try:
            return GlobalKubeconfig(path.read_text(), str(path))
        except OSError as err:
            raise UsageError(f"--global-kubeconfig {path}: {err.strerror or err}",
                             hint="the kubeconfig of the NEW global cluster, e.g. written by "
                                  "`acp-install kubeconfig --out FILE`") from None
    if kube is None:
        return None
    name = kubeconfig_secret_name(cluster)
    source = f"Secret {namespace}/{name}"
    secret = kube.get("v1", "Secret", name, namespace, deadline=deadline)
    if secret is None:
        return None
    raw = (secret.get("data") or {}).get(KUBECONFIG_KEY)
    if not raw:
        raise ClusterError(f"{source} has no key {KUBECONFIG_KEY!r}",
                           hint="Cluster API writes the kubeconfig under 'value'; pass "
                                "--global-kubeconfig FILE to use another one")
    try:
        text = base64.b64decode(str(raw), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ClusterError(f"{source}: key {KUBECONFIG_KEY!r} is not base64 of a kubeconfig",
                           hint="pass --global-kubeconfig FILE") from None
    return GlobalKubeconfig(text, source)
