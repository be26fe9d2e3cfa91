"""``acp-install handoff-check``: may the bootstrap host be decommissioned?"""

from __future__ import annotations

import click

from ..errors import GateClosed


@click.command("handoff-check")
@click.option("-f", "--file", "spec_file", required=True, type=click.Path(dir_okay=False))
@click.option("--kubeconfig", type=click.Path(dir_okay=False),
              help="Kubeconfig of minialauda, where the new cluster's kubeconfig Secret is "
                   "(default: $KUBECONFIG, then ~/.kube/config).")
@click.option("--global-kubeconfig", type=click.Path(dir_okay=False),
              help="Kubeconfig of the FINAL global cluster (default: its Cluster API Secret "
                   "global-kubeconfig in minialauda).")
@click.option("--timeout", type=float, default=120.0, show_default=True)
def handoff_check(spec_file: str, kubeconfig: str | None, global_kubeconfig: str | None,
                  timeout: float) -> None:
    """Check the final global cluster before deleting the bootstrap KIND cluster."""
    from ..clients.kubeconfigs import resolve_kubeconfig
    from ..engine.core import positive_seconds
    from ..engine.handoff import handoff_check as check
    from ..plan import build_plan
    from ..spec.load import load_spec

    positive_seconds("--timeout", timeout)
    loaded = load_spec(spec_file)
    boot = None if global_kubeconfig is not None else resolve_kubeconfig(kubeconfig)
    findings = check(build_plan(loaded), loaded.provider, boot,
                     global_kubeconfig=global_kubeconfig, timeout=timeout)
    blocking = [f for f in findings if f.severity == "error"]
    for f in findings:
        if f.severity == "warning":
            click.echo(f.format(), err=True)
    if blocking:
        raise GateClosed(blocking, source="handoff")
    click.echo("handoff gate open: delete only the KIND cluster minialauda and its network; "
               "never the Cluster, KubeadmControlPlane or provider objects")
