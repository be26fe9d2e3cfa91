"""``acp-install preflight``: the infrastructure checks of ``install``, alone, as a table.

Nothing is applied; the checks only connect (TCP, TLS, ``/v2/``), resolve and read. Against a
sandbox every probe goes to its loopback stand-ins (see ``acp_install.engine.infra``).
"""

from __future__ import annotations

import click

from . import conventions

SYMBOL = {"pass": "ok  ", "fail": "FAIL", "warn": "warn", "skip": "skip"}


@click.command("preflight")
@click.option("-f", "--file", "spec_file", required=True, type=click.Path(dir_okay=False),
              help="Install spec.")
@click.option("--kubeconfig", type=click.Path(dir_okay=False),
              help="Kubeconfig of minialauda (default: $KUBECONFIG, then ~/.kube/config).")
@click.option("--skip-preflight", "skip", multiple=True, metavar="NAME",
              help="Skip the named check (repeatable).")
@click.option("--timeout", type=float, default=3.0, show_default=True,
              help="Seconds per probe (they run concurrently).")
@conventions.format_option(choices=("text", "json", "yaml"))
@click.pass_context
def preflight(ctx: click.Context, spec_file: str, kubeconfig: str | None, skip: tuple[str, ...],
              timeout: float, fmt: str) -> None:
    """Check the site before an install: minialauda, the VIP, DNS, registries, the IaaS API.

    Exit 0 when nothing failed (warnings and skipped checks included), 18 when a check failed.
    """
    from ..clients.kube import KubeClient
    from ..clients.kubeconfigs import resolve_kubeconfig
    from ..engine.core import positive_seconds
    from ..engine.infra import failed, run_preflight
    from ..errors import PreflightFailed
    from ..plan import build_plan
    from ..spec.load import load_spec

    seconds = positive_seconds("--timeout", timeout)
    loaded = load_spec(spec_file)
    plan = build_plan(loaded)
    with KubeClient(resolve_kubeconfig(kubeconfig)) as kube:
        results = run_preflight(plan, loaded.provider, kube, skip=skip, timeout=seconds)
    if fmt != "text":
        conventions.emit({"file": spec_file, "ok": not failed(results),
                          "checks": [r.as_dict() for r in results]}, fmt)
    else:
        width = max(len(r.name) for r in results)
        for r in results:
            click.echo(f"{SYMBOL[r.status]}  {r.name:<{width}}  {r.detail}")
        counts = {s: sum(1 for r in results if r.status == s) for s in SYMBOL}
        click.echo(f"{counts['pass']} passed, {counts['fail']} failed, {counts['warn']} warning(s), "
                   f"{counts['skip']} skipped")
    if failed(results):
        ctx.exit(PreflightFailed.exit_code)
