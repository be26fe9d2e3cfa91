"""Step 2: the Core Package is unpacked and ``setup.sh`` brings minialauda up.

Why a phase: the seed's Step 2 is four shell lines run by hand before anything else, and a
user who forgets it meets a kubeconfig that does not exist. When the spec (``corePackage``) or
``--core-package TGZ`` names the Core Package and no minialauda kubeconfig is given, the engine
does what the seed does:

1. unpack the package into ``corePackage.directory`` (``tar -xf <core-package> -C <dir>``;
   skipped when that exact file was unpacked there already — a marker records its size and
   time), refusing members that would land outside it;
2. check that the package carries this host's architecture (``installer/res/amd64`` or
   ``installer/res/arm64``; ``corePackage.arch`` overrides the host's);
3. run ``sh setup.sh`` in its folder as a subprocess, every output line a progress event
   (the run log and every subscriber see it as it happens); a non-zero exit is a
   :class:`~acp_install.errors.BootstrapError` (exit 15) quoting its last lines;
4. wait for the kubeconfig it writes (``corePackage.kubeconfig``, by default
   ``/var/cpaas/data/alauda.kubeconfig``) and for minialauda to answer through it; the rest
   of the run uses that kubeconfig.

``check``: minialauda already answers through that kubeconfig → nothing runs (the phase says
so). Without a Core Package, or with a kubeconfig given, the phase has nothing to do and says
that too. The real ``setup.sh`` needs a container engine and root; the tests use a fixture Core
Package (``acp_install_sandbox.corepackage``, a test double) whose ``setup.sh`` writes a
kubeconfig pointing at a sandbox.
"""

from __future__ import annotations

import contextlib
import json
import platform
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import attrs

from ..errors import BootstrapError
from .subprocs import run_streamed

if TYPE_CHECKING:
    from ..spec.model import InstallSpec
    from .events import Outcome
    from .phases import Context

__all__ = ["ARCHES", "Bootstrap", "CoreSetup", "host_arch", "minialauda_answers"]

#: ``platform.machine()`` -> the Core Package's ``installer/res/<arch>`` folder name
ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
MARKER = ".acp-install-unpacked.json"


def host_arch() -> str:
    """This host's architecture as the Core Package names it (``amd64``/``arm64``)."""
    machine = platform.machine().lower()
    if machine not in ARCHES:
        raise BootstrapError(f"this host's architecture {machine!r} has no Core Package build",
                             hint="the Core Package ships installer/res/amd64 and "
                                  "installer/res/arm64; set corePackage.arch if this is wrong")
    return ARCHES[machine]


@attrs.frozen
class CoreSetup:
    """What the bootstrap phase works with (the spec's ``corePackage``, ``--core-package``)."""

    path: str | None
    directory: str
    setup_script: str
    kubeconfig: str
    arch: str

    @classmethod
    def of(cls, spec: InstallSpec, core_package: str | None = None) -> CoreSetup | None:
        """From the spec and ``--core-package`` (which wins); None when neither names one."""
        from ..spec.model import CORE_DIRECTORY, MINIALAUDA_KUBECONFIG

        cp = spec.corePackage
        if cp is None and core_package is None:
            return None
        return cls(path=core_package or (cp.path if cp is not None else None),
                   directory=cp.directory if cp is not None else CORE_DIRECTORY,
                   setup_script=cp.setupScript if cp is not None else "installer/setup.sh",
                   kubeconfig=cp.kubeconfig if cp is not None else MINIALAUDA_KUBECONFIG,
                   arch=(cp.arch if cp is not None and cp.arch else None) or host_arch())

    @property
    def script(self) -> Path:
        return Path(self.directory) / self.setup_script

    def packtool(self, spec: InstallSpec) -> str:
        return spec.packtool_for(self.arch)


def minialauda_answers(ctx: Context, kubeconfig: str) -> str | None:
    """The API server minialauda answers at through ``kubeconfig``, or None (no file, no answer)."""
    from ..clients.kube import KubeClient

    if not Path(kubeconfig).is_file():
        return None
    try:
        with KubeClient(kubeconfig) as kube:
            kube.get("v1", "Namespace", "kube-system", deadline=ctx.dl.within(10))
            return str(kube.server)
    except Exception:  # unreadable, refused, not yet serving: "does not answer" here
        return None


class Bootstrap:
    """Step 2: unpack the Core Package, run ``setup.sh``, wait for minialauda's kubeconfig."""

    name: ClassVar[str] = "bootstrap"
    title: ClassVar[str] = "bring minialauda up (Core Package setup.sh)"
    #: runs before the engine connects to minialauda (it is what makes minialauda)
    needs_cluster: ClassVar[bool] = False

    def check(self, ctx: Context) -> bool:
        setup = ctx.bootstrap
        if setup is None:
            ctx.progress("minialauda is the cluster the given kubeconfig points at: setup.sh "
                         "is not run (no Core Package named, or a kubeconfig was given)")
            return True
        server = minialauda_answers(ctx, setup.kubeconfig)
        if server is not None:
            ctx.progress(f"minialauda already answers at {server} (kubeconfig {setup.kubeconfig}): "
                         "setup.sh is not run again")
            return True
        return False

    def run(self, ctx: Context) -> Outcome:
        setup = ctx.bootstrap
        assert setup is not None
        self._unpack(ctx, setup)
        res = Path(setup.directory) / "installer" / "res"
        if res.is_dir() and not (res / setup.arch).is_dir():
            there = ", ".join(sorted(p.name for p in res.iterdir() if p.is_dir())) or "none"
            raise BootstrapError(f"the Core Package has no build for this host's architecture "
                                 f"{setup.arch} ({res} holds: {there})",
                                 hint=f"download the {setup.arch} Core Package, or set "
                                      "corePackage.arch if the host is another one")
        script = setup.script
        if not script.is_file():
            raise BootstrapError(f"{script} does not exist: the Core Package at "
                                 f"{setup.path or setup.directory} has no {setup.setup_script}",
                                 hint="check corePackage.path (the Core Package from the "
                                      "Customer Portal) and corePackage.setupScript")
        ctx.progress(f"sh {script.name} in {script.parent}")
        done = run_streamed(ctx, ["sh", script.name], label=script.name, cwd=script.parent)
        done.raise_unless_ok(BootstrapError, stopped=f"{script.name} did not finish within the bootstrap deadline",
                             failed=f"{script} failed", said="it",
                             fix="fix what setup.sh says (its log is above), then re-run: the package is "
                                 "not unpacked again", timeout="bootstrap", seconds=ctx.dl.seconds)
        ctx.progress(f"{script.name} finished; waiting for {setup.kubeconfig}")
        while True:
            server = minialauda_answers(ctx, setup.kubeconfig)
            if server is not None:
                ctx.progress(f"minialauda answers at {server}")
                return "done"
            if ctx.dl.expired:
                what = ("does not exist" if not Path(setup.kubeconfig).is_file()
                        else "exists, but minialauda does not answer through it")
                raise BootstrapError(f"{script.name} finished, "
                                     f"but {setup.kubeconfig} {what}",
                                     hint="check the output of setup.sh above; if it writes "
                                          "the kubeconfig elsewhere, set corePackage.kubeconfig")
            ctx.sleep(ctx.poll_interval)

    @staticmethod
    def _unpack(ctx: Context, setup: CoreSetup) -> None:
        if setup.path is None:
            if setup.script.is_file():
                ctx.progress(f"no Core Package file named: using the one unpacked in "
                             f"{setup.directory}")
                return
            raise BootstrapError("no Core Package file named (corePackage.path or "
                                 "--core-package) and none is unpacked in "
                                 f"{setup.directory}",
                                 hint="pass --core-package <core-package>.tgz")
        package = Path(setup.path)
        if not package.is_file():
            raise BootstrapError(f"the Core Package {package} does not exist on this host",
                                 hint="copy it there, or fix corePackage.path / --core-package")
        stat = package.stat()
        stamp = {"path": str(package.resolve()), "size": stat.st_size, "mtime": stat.st_mtime}
        directory = Path(setup.directory)
        marker = directory / MARKER
        with contextlib.suppress(OSError, ValueError):
            if json.loads(marker.read_text()) == stamp and setup.script.is_file():
                ctx.progress(f"{package.name} already unpacked in {directory}")
                return
        directory.mkdir(parents=True, exist_ok=True)
        ctx.progress(f"unpacking {package} into {directory}")
        try:
            with tarfile.open(package) as tar:
                tar.extractall(directory, filter="data")  # no member outside the directory
        except (tarfile.TarError, OSError) as err:
            raise BootstrapError(f"cannot unpack the Core Package {package}: "
                                 f"{type(err).__name__}: {err}",
                                 hint="check the file (a complete download from the Customer "
                                      "Portal) and the free space in "
                                      f"{directory}") from None
        marker.write_text(json.dumps(stamp))
