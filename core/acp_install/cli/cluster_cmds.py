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


@click.command("gather")
@click.option("--kubeconfig", "kubeconfig", type=click.Path(dir_okay=False), help=KUBECONFIG_HELP)
@click.option("--workdir", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Work directory of the install (its .acp-install/ state and event log).")
@click.option("--out", "out", type=click.Path(dir_okay=False),
              help="The tar.gz to write (default: acp-install-gather-<UTC time>.tar.gz here).")
@click.option("-f", "--file", "spec_file", type=click.Path(dir_okay=False),
              help="The install spec: adds the rendered plan (placeholders only) and lets every "
                   "secret it references be redacted.")
@click.option("--global-kubeconfig", type=click.Path(dir_okay=False),
              help="Kubeconfig of the new global cluster (default: its Secret in minialauda).")
@click.option("--installer-log", default="/var/cpaas/data/installer.log", show_default=True,
              type=click.Path(dir_okay=False), help="The installer's log on this host.")
@click.option("--timeout", type=float, default=30.0, show_default=True,
              help="Seconds to wait for each cluster.")
def gather(kubeconfig: str | None, workdir: str, out: str | None, spec_file: str | None,
           global_kubeconfig: str | None, installer_log: str, timeout: float) -> None:
    """Write a diagnostics bundle (tar.gz) for a support ticket; its path is printed last.

    Works with a partial, failed or interrupted install and with unreachable clusters: what
    could not be collected is listed, with why, in its SUMMARY.md. No secret value is in it.
    """
    from ..clients.kubeconfigs import default_kubeconfig
    from ..engine.core import positive_seconds
    from ..gather import gather as collect

    positive_seconds("--timeout", timeout)
    if not os.path.isdir(workdir):
        raise UsageError(f"--workdir {workdir}: no such directory",
                         hint="pass the --workdir the install ran in")
    if out == "-":
        raise UsageError("--out -: the bundle is a binary archive, not for standard output",
                         hint="give a file name, e.g. --out support.tar.gz")
    bundle = collect(kubeconfig=kubeconfig or default_kubeconfig(), workdir=workdir, out=out,
                     spec_file=spec_file, global_kubeconfig=global_kubeconfig,
                     installer_log=installer_log, timeout=timeout,
                     on_step=lambda m: click.echo(f"collecting: {m}", err=True))
    for what, why in bundle.missing:
        click.echo(f"not collected: {what}: {why}", err=True)
    for row in bundle.diagnosis:
        click.echo(f"diagnosis: {row}", err=True)
    click.echo(f"{len(bundle.files)} files, {len(bundle.missing)} not collected (see SUMMARY.md)",
               err=True)
    click.echo(str(bundle.path))


@click.command("verify")
@click.option("--kubeconfig", "kubeconfig", type=click.Path(dir_okay=False), help=KUBECONFIG_HELP)
@click.option("--global-kubeconfig", type=click.Path(dir_okay=False),
              help="Kubeconfig of the new global cluster (default: its Secret in minialauda).")
@click.option("-n", "--namespace", default="cpaas-system", show_default=True,
              help="Namespace of the Cluster API Cluster.")
@click.option("--cluster", default="global", show_default=True, help="Name of the Cluster API Cluster.")
@click.option("--timeout", type=float, default=30.0, show_default=True,
              help="Seconds to wait for the clusters' APIs (the checks run once).")
def verify(kubeconfig: str | None, global_kubeconfig: str | None, namespace: str, cluster: str,
           timeout: float) -> None:
    """Run the seed's Verification on the new global cluster once (exit 12 when it fails).

    Nodes Ready, kube-system and cpaas-system Pods Running or Completed, the platform Cluster
    Running, ClusterModule/global healthy; a failure names its Common Stalls row.
    """
    from ..clients.kube import KubeClient
    from ..clients.kubeconfigs import global_kubeconfig as find
    from ..clients.kubeconfigs import kubeconfig_secret_name, resolve_kubeconfig
    from ..clients.retry import Deadline
    from ..engine.core import positive_seconds
    from ..engine.verify import all_ok, diagnosis, verification
    from ..errors import WaitTimeout

    deadline = Deadline(positive_seconds("--timeout", timeout))
    if global_kubeconfig is not None:
        found = find(None, override=global_kubeconfig)
    else:
        with KubeClient(resolve_kubeconfig(kubeconfig)) as boot:
            found = find(boot, namespace=namespace, cluster=cluster, deadline=deadline)
        if found is None:
            raise ClusterError(
                f"Secret {namespace}/{kubeconfig_secret_name(cluster)} does not exist in minialauda: "
                "the new global cluster's control plane is not provisioned yet",
                hint="wait for phase control-plane, or pass --global-kubeconfig FILE")
    assert found is not None
    with found.client() as kube:
        checks = verification(kube, deadline=deadline)
    click.echo(f"new global cluster {found.server} (kubeconfig: {found.source})")
    for c in checks:
        click.echo(c.format())
    if not all_ok(checks):
        raise WaitTimeout(diagnosis(checks, what="the new global cluster does not pass the seed's "
                                                 "Verification"))
    click.echo("verification passed")
