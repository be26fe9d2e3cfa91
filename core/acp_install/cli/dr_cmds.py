"""``acp-install dr``: a disaster-recovery pair as one operation.

``dr validate`` checks both sides and every cross-side rule; ``dr keygen`` writes the shared
key; ``dr install`` installs one side (``--side``) or the whole pair where one host reaches both
bootstrap clusters, with the DNS gate before the standby and the join after it; ``dr join``
runs the join alone for pairs installed earlier (or by hand).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import AcpInstallError, SpecError, UsageError
from ..records import Finding
from . import conventions

if TYPE_CHECKING:
    from ..clients.kubeconfigs import GlobalKubeconfig
    from ..dr.pair import Pair
    from ..dr.rules import SideFinding


def _pair(files: tuple[str, ...]) -> Pair:
    from ..dr.pair import is_pair_file, load_pair, pair_of_specs

    if len(files) == 1:
        if not is_pair_file(files[0]):
            raise UsageError(f"{files[0]} is not a kind: DRPair file",
                             hint="give the pair file, or the two sides: -f PRIMARY -f STANDBY")
        return load_pair(files[0])
    if len(files) == 2:
        return pair_of_specs(files[0], files[1])
    raise UsageError("give one DRPair file or two specs (-f PRIMARY -f STANDBY)",
                     hint="acp-install dr validate -f pair.yaml")


def _source(pair: Pair, side: str) -> str:
    if pair.from_pair_file or side not in ("primary", "standby"):
        return " + ".join(pair.sources)
    return pair.sources[0] if side == "primary" else pair.sources[1]


def _located(pair: Pair, found: SideFinding) -> Finding:
    """A pair file's finding gets its path as written in the pair file and its line; a finding
    about a rendered object (``Kind/name field``) is headed by its side."""
    import attrs

    from ..dr.pair import pair_path
    from ..yamlio import line_of

    f = found.finding
    if not pair.from_pair_file or found.side not in ("primary", "standby"):
        return f
    if " " in f.path or f.path[:1].isupper():
        return attrs.evolve(f, path=f"{found.side}: {f.path}")
    where = pair_path(f.path, found.side, _side_part(pair, found.side))
    return attrs.evolve(f, path=where, line=line_of(pair.index, where))


def _side_part(pair: Pair, side: str) -> dict[str, Any]:
    """The keys the pair file sets for ``side`` (from its line index)."""
    return {path.split(".")[1].split("[")[0]: True for path in pair.index
            if path.startswith(side + ".")}


def check(files: tuple[str, ...]) -> tuple[Pair, list[SideFinding]]:
    """Load both sides and run the cross-side rules; raise :class:`SpecError` on any error."""
    from ..dr.rules import check_pair

    pair = _pair(files)
    found = check_pair(pair)
    errors = [f for f in found if f.finding.severity == "error"]
    if errors:
        raise SpecError([_located(pair, f) for f in found],
                        source=" + ".join(pair.sources))
    return pair, found


@click.group("dr")
def dr() -> None:
    """Disaster recovery: a primary and a standby global cluster joined by etcd-sync."""


@dr.command("validate")
@click.option("-f", "--file", "files", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="A kind: DRPair file, or twice: the primary's and the standby's spec.")
@conventions.format_option()
def validate(files: tuple[str, ...], fmt: str) -> None:
    """Validate both sides of a pair and every rule between them (shared key by digest, SANs,
    distinct VIPs and bootstrap hosts, the standby's etcd-sync target)."""
    from ..dr.rules import key_digest

    try:
        pair, found = check(files)
    except SpecError as err:
        if fmt != "text":
            conventions.emit({"files": list(files), "valid": False,
                              "findings": [_finding(f, err.source) for f in err.findings]}, fmt)
        raise
    digests = {side: key_digest(pair.side(side).spec.dr.encryptionKey)  # type: ignore[union-attr]
               for side in ("primary", "standby")}
    if fmt != "text":
        conventions.emit({"files": list(files), "valid": True,
                          "provider": pair.primary.provider.id,
                          "keyDigest": {k: v for k, v in digests.items() if v},
                          "findings": [_finding(_located(pair, f), _source(pair, f.side))
                                       for f in found]}, fmt)
        return
    for f in found:
        click.echo(_located(pair, f).format(_source(pair, f.side)), err=True)
    shown: set[tuple[str, str]] = set()
    for side in ("primary", "standby"):
        for w in pair.side(side).warnings:  # a base field's warning is the same on both sides
            if (w.path, w.message) not in shown:
                shown.add((w.path, w.message))
                click.echo(w.format(_source(pair, side)), err=True)
    p, s = pair.primary.spec, pair.standby.spec
    key = digests["primary"] or digests["standby"]
    click.echo(f"{' + '.join(pair.sources)}: valid DR pair ({pair.primary.provider.info.display_name}): "
               f"primary {p.controlPlaneVIP} (bootstrap {p.hostIP}), standby {s.controlPlaneVIP} "
               f"(bootstrap {s.hostIP}), platform {p.platformHost}"
               + (f", shared key sha256 {key}..." if key else ""))


def _finding(f: Finding, source: str | None) -> dict[str, Any]:
    return {"severity": f.severity, "path": f.path, "line": f.line, "file": source,
            "message": f.message, "fix": f.fix, "rule": f.rule}


@dr.command("keygen")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="File to write the key to (mode 0600).")
@click.option("--force", is_flag=True, help="Replace an existing key file.")
def keygen(out: str, force: bool) -> None:
    """Write a fresh aescbc key (32 random bytes, base64) for base.dr.encryptionKey; never printed."""
    from ..dr.keys import write_key

    digest = write_key(out, force=force)
    click.echo(f"wrote a new DR encryption key to {out} (mode 0600, sha256 {digest}...); copy it to "
               "both bootstrap hosts and reference it as dr.encryptionKey: {file: " + out + "}")


def _global(side: str, minialauda: str | None, override: str | None, timeout: float) -> GlobalKubeconfig:
    """A side's NEW cluster kubeconfig: the file given, else the CAPI Secret in its minialauda."""
    from ..clients.kube import KubeClient
    from ..clients.kubeconfigs import global_kubeconfig
    from ..clients.retry import Deadline
    from ..errors import ClusterError

    if override is not None:
        found = global_kubeconfig(None, override=override)
        assert found is not None
        return found
    if minialauda is None:
        raise UsageError(f"the {side} side's new cluster is needed for the join",
                         hint=f"pass --{side}-kubeconfig (that side's minialauda) or "
                              f"--{side}-global-kubeconfig FILE (acp-install kubeconfig on that side)")
    with KubeClient(minialauda) as kube:
        found = global_kubeconfig(kube, deadline=Deadline(timeout))
    if found is None:
        raise ClusterError(f"the {side} side's minialauda has no Secret cpaas-system/global-kubeconfig",
                           hint=f"is the {side} install complete? (acp-install status on that side)")
    return found


def _join(pair: Pair, workdir: Path, primary_kc: str | None, standby_kc: str | None,
          primary_global: str | None, standby_global: str | None, insecure: bool,
          timeout: float) -> None:
    from ..clients.redact import Redactor
    from ..dr.join import Join

    redactor = Redactor()
    join = Join(pair.primary.spec, pair.standby.spec,
                _global("primary", primary_kc, primary_global, timeout),
                _global("standby", standby_kc, standby_global, timeout),
                workdir=workdir, redactor=redactor, say=click.echo, insecure=insecure,
                timeout=timeout)
    join.run()


def _join_command(files: tuple[str, ...], workdir: str, standby_kubeconfig: str) -> str:
    """The one command that finishes the pair; only the primary's kubeconfig is the user's to
    fetch (``acp-install kubeconfig --out FILE`` on the primary's bootstrap host)."""
    from shlex import quote

    given = " ".join(f"-f {quote(f)}" for f in files)
    return (f"acp-install dr join {given} --workdir {quote(workdir)} --standby-kubeconfig "
            f"{quote(standby_kubeconfig)} --primary-global-kubeconfig PRIMARY-GLOBAL.kubeconfig")


_JOIN_OPTIONS = [
    click.option("--primary-kubeconfig", type=click.Path(dir_okay=False),
                 help="The primary's minialauda kubeconfig (its new cluster's is read from there)."),
    click.option("--standby-kubeconfig", type=click.Path(dir_okay=False),
                 help="The standby's minialauda kubeconfig."),
    click.option("--primary-global-kubeconfig", type=click.Path(dir_okay=False),
                 help="The primary's NEW cluster kubeconfig (acp-install kubeconfig --out on that side)."),
    click.option("--standby-global-kubeconfig", type=click.Path(dir_okay=False),
                 help="The standby's NEW cluster kubeconfig."),
    click.option("--insecure", is_flag=True,
                 help="Do not verify the standby's TLS certificate for the ModuleInfo POST (warned)."),
    click.option("--timeout", type=float, default=30.0, show_default=True,
                 help="Seconds per API call of the join."),
]


def _with(options: list[Any]) -> Any:
    def wrap(fn: Any) -> Any:
        for option in reversed(options):
            fn = option(fn)
        return fn
    return wrap


@dr.command("join")
@click.option("-f", "--file", "files", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="The DRPair file, or the primary's and the standby's spec.")
@click.option("--workdir", type=click.Path(file_okay=False), default=".", show_default=True,
              help="The pair's work directory (as for dr install): the join records its finished "
                   "steps in WORKDIR/standby/.acp-install/dr-join.json.")
@_with(_JOIN_OPTIONS)
def join(files: tuple[str, ...], workdir: str, primary_kubeconfig: str | None,
         standby_kubeconfig: str | None, primary_global_kubeconfig: str | None,
         standby_global_kubeconfig: str | None, insecure: bool, timeout: float) -> None:
    """Join an installed pair: global-etcd-sync on the standby, then the seed's Pod restarts."""
    pair, _found = check(files)
    _join(pair, Path(workdir) / "standby", primary_kubeconfig, standby_kubeconfig,
          primary_global_kubeconfig, standby_global_kubeconfig, insecure, timeout)


@dr.command("install")
@click.option("-f", "--file", "files", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="The DRPair file, or the primary's and the standby's spec.")
@click.option("--side", type=click.Choice(["primary", "standby"]),
              help="Install this side only (on that side's bootstrap host); default: the whole pair.")
@click.option("--kubeconfig", type=click.Path(dir_okay=False),
              help="With --side: this side's minialauda (default: $KUBECONFIG, ~/.kube/config).")
@click.option("--workdir", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Each side's run lives in WORKDIR/<side>.")
@click.option("--dns-switched", is_flag=True,
              help="Assert that the platform host resolves to the standby VIP (skip the DNS gate).")
@click.option("--resolve", "resolve", multiple=True, metavar="HOST=ADDRESS",
              help="Answer for HOST in the DNS gate instead of this host's resolver (like curl "
                   "--resolve), e.g. where the bootstrap host does not use the site's DNS.")
@click.option("--accept-example-values", is_flag=True, envvar="ACP_INSTALL_ACCEPT_EXAMPLE_VALUES",
              help="Install although fields still hold init's example values.")
@click.option("--installer-address", metavar="HOST:PORT",
              help="With --side: this side's cpaas-installer (default: found in minialauda).")
@click.option("--poll-interval", type=float, default=1.5, show_default=True,
              help="Seconds between the installer progress polls.")
@click.option("--skip-preflight", "skip_preflight", multiple=True, metavar="NAME",
              help="Skip the named preflight check of each side's install (repeatable).")
@_with(_JOIN_OPTIONS)
def install(files: tuple[str, ...], side: str | None, kubeconfig: str | None, workdir: str,
            dns_switched: bool, resolve: tuple[str, ...], accept_example_values: bool,
            installer_address: str | None, poll_interval: float, skip_preflight: tuple[str, ...],
            primary_kubeconfig: str | None, standby_kubeconfig: str | None,
            primary_global_kubeconfig: str | None, standby_global_kubeconfig: str | None,
            insecure: bool, timeout: float) -> None:
    """Install a pair: the primary, the DNS gate, the standby, then the join."""
    from ..clients.kubeconfigs import resolve_kubeconfig

    pair, _found = check(files)
    root = Path(workdir)
    if side is None:
        if not (primary_kubeconfig and standby_kubeconfig):
            raise UsageError("the whole pair needs both sides' minialauda",
                             hint="pass --primary-kubeconfig and --standby-kubeconfig, or run "
                                  "--side primary / --side standby on each bootstrap host")
        if kubeconfig or installer_address:
            raise UsageError("--kubeconfig and --installer-address name one side",
                             hint="use them with --side")
        sides = {"primary": primary_kubeconfig, "standby": standby_kubeconfig}
    else:
        mine = kubeconfig or (primary_kubeconfig if side == "primary" else standby_kubeconfig)
        sides = {side: resolve_kubeconfig(mine)}
    resolver = _resolver(resolve, pair)
    for name, minialauda in sides.items():
        skips = skip_preflight
        if name == "standby":
            _dns_gate(pair, dns_switched, resolver, resolve, minialauda)
            if dns_switched:  # asserted by hand: this host cannot tell
                skips = (*skip_preflight, "platform-host")
        _install_side(pair, name, minialauda, root / name, accept_example_values, installer_address,
                      poll_interval, skips, resolver)
    if "standby" not in sides:
        click.echo("primary installed; next, on the standby's bootstrap host after the DNS switch: "
                   f"acp-install dr install {' '.join(f'-f {f}' for f in files)} --side standby")
        return
    have_primary = primary_kubeconfig or primary_global_kubeconfig
    if not have_primary:
        click.echo("standby installed, but DR is NOT active yet: the standby does not follow the "
                   "primary until the join. Get the primary's new-cluster kubeconfig there with "
                   "`acp-install kubeconfig --out PRIMARY-GLOBAL.kubeconfig`, copy it here, then:\n  "
                   + _join_command(files, str(root), sides["standby"]))
        return
    _join(pair, root / "standby", primary_kubeconfig, sides["standby"], primary_global_kubeconfig,
          standby_global_kubeconfig, insecure, timeout)
    click.echo("DR pair active: primary " + pair.primary.spec.controlPlaneVIP + ", standby "
               + pair.standby.spec.controlPlaneVIP)


def _resolver(resolve: tuple[str, ...], pair: Pair) -> Callable[[str], list[str]]:
    """``--resolve HOST=ADDRESS`` answers first, this host's resolver for any other name (the
    DNS gate and each side's ``platform-host`` preflight ask the same)."""
    from ..dr.dns import system_resolver

    answers: dict[str, list[str]] = {}
    for item in resolve:
        name, sep, address = item.partition("=")
        if not sep or not name or not address:
            spec = pair.standby.spec
            raise UsageError(f"--resolve {item}: expected HOST=ADDRESS",
                             hint=f"--resolve {spec.platformHost}={spec.controlPlaneVIP}")
        answers.setdefault(name.lower(), []).append(address)

    def resolver(name: str) -> list[str]:
        return answers[name.lower()] if name.lower() in answers else system_resolver(name)

    return resolver


def _dns_gate(pair: Pair, dns_switched: bool, resolver: Callable[[str], list[str]],
              resolve: tuple[str, ...], minialauda: str) -> None:
    from ..dr.dns import check_dns

    host, vip = pair.standby.spec.platformHost, pair.standby.spec.controlPlaneVIP
    if dns_switched:
        click.echo(f"DNS gate: {host} -> {vip} asserted by --dns-switched (not resolved here)")
        return
    answered = any(item.partition("=")[0].lower() == host.lower() for item in resolve)
    if not answered and _sandbox_standins(minialauda):
        # a sandbox stands in for the site's DNS: nothing is looked up off this host
        click.echo(f"DNS gate: {host} -> {vip} taken as switched: the standby's minialauda is a "
                   "sandbox (its stand-in answers for the platform host; no DNS lookup)")
        return
    answer = check_dns(host, vip, "standby", resolver=resolver)
    click.echo(f"DNS gate: {host} resolves to {', '.join(answer.answers)} (the standby VIP)")


def _sandbox_standins(minialauda: str) -> bool:
    """Whether that minialauda announces itself as a sandbox (:mod:`acp_install.engine.standins`)."""
    from ..clients.kube import KubeClient
    from ..engine.standins import announcement

    with KubeClient(minialauda) as kube:
        return bool(announcement(kube))


def _install_side(pair: Pair, side: str, minialauda: str, workdir: Path,
                  accept_example_values: bool, installer_address: str | None,
                  poll_interval: float, skip_preflight: tuple[str, ...],
                  resolver: Callable[[str], list[str]]) -> None:
    from ..engine import Timeouts
    from ..plan import build_plan
    from ..spec.example import RULE
    from . import install_cmds, view

    loaded = pair.side(side)
    examples = [f for f in loaded.warnings if f.rule == RULE]
    if examples and not accept_example_values:
        raise SpecError([Finding("error", f.path, f"{f.message}: install refuses to start",
                                 fix="replace it, or pass --accept-example-values", line=f.line,
                                 rule=f.rule) for f in examples], source=_source(pair, side))
    click.echo(f"== {side} side: installing into {workdir} (minialauda {minialauda})")
    workdir.mkdir(parents=True, exist_ok=True)
    renderer = view.make_view(sys.stdout, no_color=False, verbosity=0)
    try:
        result = install_cmds._run(build_plan(loaded), loaded.provider, minialauda, str(workdir),
                                   renderer, Timeouts(), None, False, poll_interval, installer_address,
                                   skip_preflight=skip_preflight, resolver=resolver)
    except AcpInstallError:
        click.echo(f"== {side} side failed; fix the cause and re-run the same command (it resumes)",
                   err=True)
        raise
    install_cmds._summary(result, None, "text", sys.stdout, renderer)
