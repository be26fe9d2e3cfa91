"""One error taxonomy, one exit code per class.

Every failure a user can cause or meet is one of these classes, so the CLI can print a
message without a traceback and exit with a code a pipeline can branch on. The table is
documented in ``docs/exit-codes.md``; changing a number is a breaking change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from .records import Finding


class AcpInstallError(Exception):
    """Base class: anything acp-install raises on purpose."""

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  fix: {self.hint}"


class UsageError(AcpInstallError):
    """The command line itself is wrong (unknown option, missing argument)."""

    exit_code = 2


class SpecError(AcpInstallError):
    """The install spec (or a manifest given to ``lint``) is invalid.

    Carries every finding, so one run reports all problems at once.
    """

    exit_code = 3

    def __init__(self, findings: Sequence[Finding], *, source: str | None = None) -> None:
        self.findings = tuple(findings)
        self.source = source
        n = sum(1 for f in self.findings if f.severity == "error")
        where = f" in {source}" if source else ""
        super().__init__(f"{n} error(s){where}")

    def __str__(self) -> str:
        lines = [self.message]
        lines.extend(f.format(self.source) for f in self.findings)
        return "\n".join(lines)


class LintError(SpecError):
    """A manifest violates the global naming convention (``acp-install lint``)."""

    exit_code = 4


class PluginError(AcpInstallError):
    """A provider plugin is missing, broken, or speaks another contract version."""

    exit_code = 5

    def __init__(
        self, message: str, *, hint: str | None = None, distribution: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.distribution = distribution


class SecretError(AcpInstallError):
    """A secret reference cannot be resolved (file missing, env unset).

    The message names the reference, never the value.
    """

    exit_code = 6


class StateError(AcpInstallError):
    """The work directory is locked by another run or its state file is unusable."""

    exit_code = 7


class ClusterError(AcpInstallError):
    """Talking to the bootstrap cluster failed (API errors, rejected objects)."""

    exit_code = 10


class InstallerError(AcpInstallError):
    """The cpaas-installer refused the request or reported a failure."""

    exit_code = 11


class WaitTimeout(AcpInstallError):
    """A phase did not reach its goal before its deadline (a stall)."""

    exit_code = 12


class PackageError(AcpInstallError):
    """A provider package did not get installed: packtool failed, a chart the AppReleases
    reference is not in the local registry, or an AppRelease reports failure.

    Raised before the next step depends on it (no AppRelease is applied for a missing chart;
    the CRD wait is not entered for a failed AppRelease), with the tool's or the object's own
    words.
    """

    exit_code = 14


class BootstrapError(AcpInstallError):
    """Step 2 failed: the Core Package cannot be unpacked, ``setup.sh`` failed, or its
    kubeconfig did not appear."""

    exit_code = 15


class StallDiagnosed(WaitTimeout):
    """A wait stopped early: the cause of the stall was visible and persisted past the grace.

    Raised instead of waiting out the phase deadline (fail fast) when, for example, a Machine
    condition is at severity Error or the installer reports an image pull error; the message
    names the row of the seed's "Common Stalls" table and what was seen. A
    :class:`WaitTimeout`, so callers catching stalls catch it too; its own exit code tells a
    pipeline that waiting longer would not have helped.

    ``stall`` is the key of the table row (``machines-pending``, ``kube-system-pending``...),
    ``held`` how long the cause was seen and ``grace`` the grace period, both in seconds on the
    phase deadline's clock.
    """

    exit_code = 16

    def __init__(self, message: str, *, hint: str | None = None, stall: str = "",
                 held: float = 0.0, grace: float = 0.0) -> None:
        super().__init__(message, hint=hint)
        self.stall = stall
        self.held = held
        self.grace = grace


class GateClosed(SpecError):
    """A gate of the procedure is closed (e.g. the bootstrap host may not be decommissioned yet).

    Carries the findings that block it, like a spec error.
    """

    exit_code = 13


class DRJoinError(AcpInstallError):
    """The DR join was refused: the standby rejected a token, or its ``global-etcd-sync``
    ModuleInfo follows another cluster. Never retried blindly: the fix is on the cluster."""

    exit_code = 17


class PreflightFailed(AcpInstallError):
    """A preflight check of the site failed (a VIP in use, a registry or IaaS API that does not
    answer, the wrong cluster): the install did not start; nothing was applied."""

    exit_code = 18


class Interrupted(AcpInstallError):
    """The user interrupted the run; state is saved and a re-run resumes."""

    exit_code = 130


EXIT_CODES: tuple[tuple[int, str, str], ...] = (
    (0, "ok", "success"),
    (1, "AcpInstallError", "unexpected error (a bug: please report it with --debug output)"),
    (UsageError.exit_code, "UsageError", "bad command line"),
    (SpecError.exit_code, "SpecError", "invalid install spec; nothing was applied"),
    (LintError.exit_code, "LintError", "manifest violates the naming convention"),
    (PluginError.exit_code, "PluginError", "provider plugin missing, broken or incompatible"),
    (SecretError.exit_code, "SecretError", "a secret reference cannot be resolved"),
    (StateError.exit_code, "StateError", "work directory locked or state unreadable"),
    (ClusterError.exit_code, "ClusterError", "bootstrap cluster API failure"),
    (InstallerError.exit_code, "InstallerError", "cpaas-installer refused or failed"),
    (WaitTimeout.exit_code, "WaitTimeout", "a phase stalled past its deadline"),
    (GateClosed.exit_code, "GateClosed", "a gate is closed (e.g. handoff-check: keep the bootstrap host)"),
    (PackageError.exit_code, "PackageError",
     "a provider package was not installed (packtool, chart missing in the registry, AppRelease failed)"),
    (BootstrapError.exit_code, "BootstrapError", "Step 2 failed (Core Package, setup.sh, its kubeconfig)"),
    (StallDiagnosed.exit_code, "StallDiagnosed",
     "a stall with a visible cause, reported after its grace instead of the deadline"),
    (Interrupted.exit_code, "Interrupted", "interrupted; re-run to resume"),
)

