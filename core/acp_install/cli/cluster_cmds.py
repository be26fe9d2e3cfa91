"""``acp-install kubeconfig``: the new global cluster's kubeconfig, like ``clusterctl get kubeconfig``.

minialauda is found as kubectl finds it (``--kubeconfig``, ``$KUBECONFIG``, ``~/.kube/config``);
the new cluster's kubeconfig is the Cluster API Secret ``<cluster>-kubeconfig`` (key ``value``)
there. It holds credentials: standard output only when asked for it, a file with mode 0600.
"""

from __future__ import annotations

import os
import sys

import click

from ..errors import ClusterError, UsageError

KUBECONFIG_HELP = "Kubeconfig of minialauda (default: $KUBECONFIG, then ~/.kube/config)."


def write_private(path: str, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600, also when it existed)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as err:
        raise UsageError(f"--out {path}: {err.strerror or err}",
                         hint="a writable file path (its directory must exist)") from None
    with os.fdopen(fd, "w") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(text)


@click.command("kubeconfig")
@click.option("--kubeconfig", "kubeconfig", type=click.Path(dir_okay=False), help=KUBECONFIG_HELP)
@click.option("--out", "out", type=click.Path(dir_okay=False),
              help="Write it to FILE (mode 0600) instead of standard output.")
@click.option("-n", "--namespace", default="cpaas-system", show_default=True,
              help="Namespace of the Cluster API Cluster (the spec's namespace).")
@click.option("--cluster", default="global", show_default=True,
              help="Name of the Cluster API Cluster (always global for the global cluster).")
@click.option("--timeout", type=float, default=30.0, show_default=True,
              help="Seconds to wait for minialauda's API.")
def kubeconfig(kubeconfig: str | None, out: str | None, namespace: str, cluster: str,
               timeout: float) -> None:
    """Write the new global cluster's kubeconfig (from its Cluster API Secret in minialauda).

    kubectl works with it as is: ``acp-install kubeconfig --out global.kubeconfig && kubectl
    --kubeconfig global.kubeconfig get nodes``.
    """
    from ..clients.kube import KubeClient
    from ..clients.kubeconfigs import global_kubeconfig, kubeconfig_secret_name, resolve_kubeconfig
    from ..clients.retry import Deadline
    from ..engine.core import positive_seconds

    deadline = Deadline(positive_seconds("--timeout", timeout))
    path = resolve_kubeconfig(kubeconfig)
    with KubeClient(path) as kube:
        found = global_kubeconfig(kube, namespace=namespace, cluster=cluster, deadline=deadline)
    if found is None:
        raise ClusterError(
            f"Secret {namespace}/{kubeconfig_secret_name(cluster)} does not exist in minialauda: "
            "the new global cluster's control plane is not provisioned yet",
            hint=f"wait for phase control-plane (kubectl get cluster -n {namespace} {cluster}: "
                 "Provisioned); a wrong --namespace/--cluster also gives this")
    if out is None or out == "-":
        sys.stdout.write(found.text if found.text.endswith("\n") else found.text + "\n")
        return
    write_private(out, found.text)
    click.echo(f"wrote the kubeconfig of the new global cluster ({found.server}) to {out} (mode 0600)",
               err=True)
