"""``acp-install handoff-check``: may the bootstrap host be decommissioned?"""

from __future__ import annotations

import click

from ..errors import GateClosed


@click.command("handoff-check")
@click.option("-f", "--file", "spec_file", required=True, type=click.Path(dir_okay=False))
@click.option("--kubeconfig", required=True, type=click.Path(dir_okay=False),
              help="Kubeconfig of the FINAL global cluster (not minialauda).")
@click.option("--timeout", type=float, default=120.0, show_default=True)
def handoff_check(spec_file: str, kubeconfig: str, timeout: float) -> None:
    """Check the final global cluster before deleting the bootstrap KIND cluster."""
    from ..engine.handoff import handoff_check as check
    from ..plan import build_plan
    from ..spec.load import load_spec

    loaded = load_spec(spec_file)
    findings = check(build_plan(loaded), loaded.provider, kubeconfig, timeout=timeout)
    blocking = [f for f in findings if f.severity == "error"]
    for f in findings:
        if f.severity == "warning":
            click.echo(f.format(), err=True)
    if blocking:
        raise GateClosed(blocking, source="handoff")
    click.echo("handoff gate open: delete only the KIND cluster minialauda and its network; "
               "never the Cluster, KubeadmControlPlane or provider objects")
