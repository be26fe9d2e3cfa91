"""Before the first phase: every secret the run will need is readable (DESIGN rule 3).

Why here and not in each phase: a missing IaaS credential found while applying the manifest
leaves the AppReleases applied; a missing admin password found at the installer phase comes up
to an hour in. So the engine walks the parts of the plan its unfinished phases will send, tries
every secret reference once, and raises ONE :class:`~acp_install.errors.SecretError` naming each
reference that cannot be read (names and sources only) before anything is applied.

The values read on the way feed the run's :class:`~acp_install.clients.redact.Redactor`, which
strips them from whatever a server sends back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..clients.redact import MIN_SECRET_LENGTH, Redactor
from ..errors import SecretError
from ..secrets import SecretRef, SecretText, secret_refs

if TYPE_CHECKING:
    from ..plan import InstallPlan


def plan_parts(plan: InstallPlan) -> dict[str, Any]:
    """Phase name -> the plan data that phase sends (with secret references in it)."""
    registry = plan.spec.credentials.registry
    return {
        "push": [registry.password] if registry is not None else [],
        "packages": [*plan.package_objects, *plan.appreleases],
        "manifest": list(plan.manifest),
        "extra-resources": [plan.extra_resources] if plan.extra_resources is not None else [],
        "installer": plan.installer_payload,
    }


def check_secrets(plan: InstallPlan, phases: Iterable[str], *,
                  on_short: Callable[[str], None] | None = None) -> Redactor:
    """Read every secret of ``phases``; one :class:`SecretError` lists all that cannot be read.

    A secret shorter than :data:`~acp_install.clients.redact.MIN_SECRET_LENGTH` cannot be kept
    out of messages without mangling them (``global`` is an object name too), so it is refused
    as well — unless ``on_short`` is given: then it is called with the reference (never the
    value) and the value is redacted where it stands alone only.

    Returns a :class:`Redactor` holding every secret of the plan that could be read (also of
    phases that will not run: a server may still echo them).
    """
    wanted = set(phases)
    needed_by: dict[SecretRef, list[str]] = {}
    redactor = Redactor()
    parts = plan_parts(plan)
    extra = [data for _name, data in plan.dr_files]
    everything = [*((name, data) for name, data in parts.items()), ("", extra)]
    for phase, data in everything:
        for ref in secret_refs(data):
            refs = list(ref.refs.values()) if isinstance(ref, SecretText) else [ref]
            for r in refs:
                users = needed_by.setdefault(r, [])
                if phase in wanted and phase not in users:
                    users.append(phase)
            if isinstance(ref, SecretText) and all(r.available() for r in ref.refs.values()):
                with contextlib.suppress(SecretError):
                    redactor.add(ref.render(reveal=True))
    problems: list[str] = []
    for ref, users in needed_by.items():
        try:
            value = ref.reveal().get()
        except SecretError as err:
            if users:
                problems.append(f"{err.message} (needed by phase {', '.join(users)})")
            continue
        redactor.add(value)
        if users and len(value) < MIN_SECRET_LENGTH:
            if on_short is None:
                problems.append(f"secret {ref.source} is shorter than {MIN_SECRET_LENGTH} characters: too "
                                "short to keep out of messages safely (needed by phase "
                                f"{', '.join(users)})")
            else:
                on_short(ref.source)
    if problems:
        short = any("too short" in p for p in problems)
        raise SecretError(
            f"{len(problems)} secret reference(s) cannot be {'used' if short else 'read'}; nothing was "
            "applied:\n" + "\n".join(f"  - {p}" for p in problems),
            hint="export the variables / create the files (mode 0600) the spec points at, "
                 "then re-run" + ("; for a secret that is too short, use a longer one (or "
                                  "--allow-short-secrets: redacted only where it stands alone)"
                                  if short else ""))
    return redactor
