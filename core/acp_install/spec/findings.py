"""Structural errors as findings: the fix to suggest (with "did you mean"), and their order.

Kept apart from loading so the wording of fixes and the order users read them in change here
only.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from ..records import Finding
from .explain import fields

_INDEX = re.compile(r"\[\d+\]")


def known_keys(roots: Iterable[tuple[type, str]], parent: str) -> list[str]:
    """The field names of the record at ``parent`` (``platform.pool[2]``), from the spec classes."""
    want = _INDEX.sub("[]", parent)
    keys = []
    for cls, prefix in roots:
        for path, _tp, _attr in fields(cls, prefix):
            head, _, name = path.rpartition(".")
            if head == want:
                keys.append(name)
    return keys


def did_you_mean(key: str, candidates: Iterable[str]) -> str | None:
    """The closest valid key, compared without case (``hostIp`` → ``hostIP``)."""
    by_lower = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def structural(path: str, message: str, roots: Iterable[tuple[type, str]],
               provider_id: str | None = None) -> Finding:
    """One structural error of the converter as an error finding with its fix.

    ``roots`` are the spec classes with their path prefix (the core's, the provider's
    ``platform``), where an unknown key finds the valid keys of its record.
    """
    command = f"acp-install explain --provider {provider_id}" if provider_id and \
        path.startswith("platform") else "acp-install explain"
    if message == "unknown field":
        parent, _, key = path.rpartition(".")
        guess = did_you_mean(key, known_keys(roots, parent))
        listed = f"`{command} {_INDEX.sub('', parent)}`" if parent else f"`{command}`"
        if guess is not None:
            return Finding("error", path, f"unknown field; did you mean {guess!r}?",
                           fix=f"rename it to {guess} ({listed} lists the fields)")
        return Finding("error", path, message,
                       fix=f"remove it or check its spelling ({listed} lists the fields)")
    if path == "provider":
        return Finding("error", path, message,
                       fix="set provider: to an id listed by `acp-install providers`")
    return Finding("error", path, message, fix=_fix_for(message, f"`{command} {_INDEX.sub('', path)}`"))


def _fix_for(message: str, explain: str) -> str:
    if message == "required field missing":
        return f"add it ({explain} shows what it takes)"
    if message.startswith("literal secrets"):
        return "put the value in a file (mode 0600) or an environment variable and reference it"
    if message.startswith("expected a string"):
        return 'quote the value so YAML reads it as text, e.g. "24" or "v1.34.5-3"'
    return f"see {explain} for the expected type"


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """By YAML line, then (findings without a line, after them) by field path: stable output."""
    return sorted(findings, key=lambda f: (f.line is None, f.line or 0, f.path, f.severity,
                                           f.message, f.rule))
