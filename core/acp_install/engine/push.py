"""Step 3, first half: the provider packages' charts are in the local registry.

Why a phase of its own, before ``packages``: an AppRelease whose chart was never pushed fails
minutes later, inside minialauda, as a CRD that never appears. So before any AppRelease is
applied the engine asks the local registry (the OCI distribution API,
``GET /v2/<chart>/tags/list``, authenticated as the registry asks) for every chart and version
the AppReleases reference, and stops with :class:`~acp_install.errors.PackageError` naming the
chart, the version and the registry when one is missing.

Charts that are missing are pushed first, when the spec allows it (``packages.push``, on by
default), exactly as the seed does: ``packtool pack push -r LOCAL_REGISTRY_ADDRESS -c PACK``
for the package that delivers the chart, its output streamed as progress events and its own
words in the error when it fails. Charts already there are not pushed again, so ``check`` is
"every chart is in the registry" and a re-run does not push twice.

Against a sandbox the registry is the sandbox's loopback stand-in (:mod:`.standins`), never the
spec's ``localRegistryAddress``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..errors import PackageError
from . import standins
from .subprocs import run_streamed

if TYPE_CHECKING:
    from ..clients.registry import RegistryClient
    from ..records import ProviderPackage
    from .events import Outcome
    from .phases import Context

__all__ = ["Push", "tag_of"]


def tag_of(version: str) -> str:
    """The OCI tag a chart version is stored under (Helm writes ``+`` as ``_``)."""
    return version.replace("+", "_")


def registry_address(ctx: Context) -> tuple[str, str]:
    """``(host:port, where it came from)`` of the local registry as seen from this host."""
    return standins.field_or_standin(ctx, "localRegistryAddress",
                                     ctx.plan.spec.localRegistryAddress)


def _client(ctx: Context, address: str) -> RegistryClient:
    from ..clients.registry import RegistryClient

    account = ctx.plan.spec.credentials.registry
    if account is None:
        return RegistryClient(address, on_retry=ctx.warn)
    password = account.password.reveal()
    try:
        return RegistryClient(address, username=account.username, password=password.get(),
                              on_retry=ctx.warn)
    finally:
        del password


def missing_charts(ctx: Context, client: RegistryClient) -> list[tuple[ProviderPackage, list[str] | None]]:
    """Each package whose chart version the registry lacks, with the tags it does hold."""
    out = []
    for pkg in ctx.plan.packages:
        tags = client.tags(pkg.chart, deadline=ctx.dl)
        if tags is None or (tag_of(pkg.version) not in tags and pkg.version not in tags):
            out.append((pkg, tags))
    return out


def _describe(missing: Sequence[tuple[ProviderPackage, list[str] | None]], address: str) -> str:
    lines = []
    for pkg, tags in missing:
        there = ("the registry does not know the repository" if tags is None else
                 f"tags there: {', '.join(tags[-8:]) or 'none'}")
        lines.append(f"  - chart {pkg.chart} version {pkg.version} (AppRelease "
                     f"{pkg.release_name}): not in {address} ({there})")
    return "\n".join(lines)


class Push:
    """Step 3: push the packages whose charts are missing, then check every chart is there."""

    name: ClassVar[str] = "push"
    title: ClassVar[str] = "push provider packages (packtool) and check their charts in the local registry"

    def check(self, ctx: Context) -> bool:
        address, where = registry_address(ctx)
        with _client(ctx, address) as client:
            missing = missing_charts(ctx, client)
        if missing:
            ctx.progress(f"{len(missing)} of {len(ctx.plan.packages)} chart(s) not in the local "
                         f"registry {address} ({where})")
            return False
        ctx.progress(f"every chart the AppReleases reference is in the local registry {address} "
                     f"({where}): nothing to push")
        return True

    def run(self, ctx: Context) -> Outcome:
        spec = ctx.plan.spec
        address, where = registry_address(ctx)
        with _client(ctx, address) as client:
            missing = missing_charts(ctx, client)
            if missing and not spec.packages.push:
                raise PackageError(
                    f"{len(missing)} chart(s) the AppReleases reference are not in the local "
                    f"registry {address} ({where}); no AppRelease was applied:\n"
                    + _describe(missing, address),
                    hint="push them (packtool pack push -r LOCAL_REGISTRY_ADDRESS -c PACK), or "
                         "set packages.push: true to let acp-install push them")
            for pkg, _tags in missing:
                self._push(ctx, pkg, address)
            still = missing_charts(ctx, client) if missing else []
        if still:
            raise PackageError(
                f"{len(still)} chart(s) are still not in the local registry {address} after "
                "packtool pushed their packages; no AppRelease was applied:\n"
                + _describe(still, address),
                hint="the package does not deliver the chart version the spec names: check "
                     "packages.*.version against the package file (its name carries the version)")
        ctx.progress(f"{len(ctx.plan.packages)} chart(s) in the local registry {address}, "
                     f"{len(missing)} pushed")
        return "done" if missing else "already-done"

    @staticmethod
    def _push(ctx: Context, pkg: ProviderPackage, address: str) -> None:
        from .bootstrap import host_arch

        spec = ctx.plan.spec
        packtool = (ctx.bootstrap.packtool(spec) if ctx.bootstrap is not None
                    else spec.packtool_for(host_arch()))
        if not Path(pkg.tarball).is_file():
            raise PackageError(
                f"chart {pkg.chart} version {pkg.version} is not in the local registry {address}, "
                f"and the package that delivers it, {pkg.tarball}, does not exist on this host; "
                "no AppRelease was applied",
                hint="copy the package there (or fix packages.*.path in the spec), then re-run")
        if not os.access(packtool, os.X_OK):
            raise PackageError(
                f"packtool {packtool} ({'packages.packtool' if spec.packages.packtool else 'from the Core Package'}) "
                "is not an executable file on this host",
                hint="unpack the Core Package (Step 2) or point packages.packtool at its "
                     "installer/res/<arch>/packtool")
        ctx.progress(f"packtool pack push -r {address} -c {pkg.tarball}")
        try:
            done = run_streamed(ctx, [packtool, "pack", "push", "-r", address, "-c", pkg.tarball],
                                label="packtool")
        except OSError as err:
            raise PackageError(f"cannot run packtool {packtool}: {err.strerror or err}",
                               hint="point packages.packtool at the Core Package's "
                                    "installer/res/<arch>/packtool") from None
        done.raise_unless_ok(PackageError, stopped=f"packtool did not finish pushing {pkg.tarball} before the "
                             "push phase deadline", last="words",
                             failed=f"packtool pack push of {pkg.tarball} to {address} failed", said="packtool",
                             fix="fix what packtool says, then re-run: charts already pushed are not pushed "
                                 "again", timeout="push", seconds=ctx.dl.seconds)
