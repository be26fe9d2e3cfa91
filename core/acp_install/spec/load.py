"""Reading a spec from YAML or from the environment, with every finding pointing at a line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ..errors import SpecError
from ..plugins import Provider, load_provider
from ..records import Finding
from ..yamlio import LineIndex, YamlSyntaxError, line_of, load_all
from . import checks
from .converter import structure
from .model import ALIASES, InstallSpec


@attrs.frozen
class LoadedSpec:
    """A validated spec, its provider, and the warnings found on the way."""

    spec: InstallSpec
    provider: Provider
    warnings: tuple[Finding, ...] = ()
    source: str = "<spec>"


def _locate(findings: list[Finding], index: LineIndex) -> list[Finding]:
    return [f if f.line else attrs.evolve(f, line=line_of(index, f.path)) for f in findings]


def _fail(findings: list[Finding], index: LineIndex, source: str) -> SpecError:
    return SpecError(_locate(findings, index), source=source)


def parse(data: Any, *, source: str = "<spec>", index: LineIndex | None = None,
          provider: Provider | None = None) -> LoadedSpec:
    """Turn plain data into a validated :class:`LoadedSpec` or raise :class:`SpecError`."""
    index = index or {}
    findings: list[Finding] = []
    if not isinstance(data, Mapping):
        raise SpecError([Finding("error", "", "the spec must be a YAML mapping",
                                 fix="start from `acp-install init`")], source=source)
    data = dict(data)
    for old, new in ALIASES.items():
        if old in data:
            if new in data:
                findings.append(Finding("error", old, f"both {old} and {new} are set",
                                        fix=f"keep only {new}"))
            else:
                findings.append(Finding("warning", old, f"{old} is the old name of {new}",
                                        fix=f"rename it to {new}"))
                data[new] = data.pop(old)
                if old in index:
                    index[new] = index[old]
    provider_id = data.get("provider")
    if not isinstance(provider_id, str):
        findings.append(Finding("error", "provider", "required field missing" if provider_id is
                                None else "expected a string",
                                fix="set provider: to an id listed by `acp-install providers`"))
        raise _fail(findings, index, source)
    if provider is None:
        provider = load_provider(provider_id)

    platform_raw = data.pop("platform", None)
    spec, errors = structure({**data, "platform": None}, InstallSpec)
    platform = None
    if platform_raw is None:
        errors.append(("platform", "required field missing"))
    else:
        platform, perrs = structure(platform_raw, provider.info.platform_type, prefix="platform")
        errors.extend(perrs)
    findings.extend(Finding("error", path, msg, fix=_fix_for(msg)) for path, msg in errors)
    if spec is None or platform is None or any(f.severity == "error" for f in findings):
        raise _fail(findings, index, source)
    spec = attrs.evolve(spec, platform=platform)
    core = list(checks.check(spec))
    own = provider.validate(spec)
    # a provider that makes a core warning an error (e.g. replicas) is the one voice on that field
    overruled = {f.path for f in own if f.severity == "error"}
    findings.extend(f for f in core if not (f.severity == "warning" and f.path in overruled))
    findings.extend(own)
    errors_only = [f for f in findings if f.severity == "error"]
    if errors_only:
        raise _fail(findings, index, source)
    return LoadedSpec(spec, provider, tuple(_locate(findings, index)), source)


def _fix_for(message: str) -> str:
    if message == "unknown field":
        return "remove it or check its spelling (`acp-install explain` lists every field)"
    if message == "required field missing":
        return "add it (`acp-install explain FIELD` shows what it takes)"
    if message.startswith("literal secrets"):
        return "put the value in a file (mode 0600) or an environment variable and reference it"
    if message.startswith("expected a string"):
        return 'quote the value so YAML reads it as text, e.g. "24" or "v1.34.5-3"'
    return "see `acp-install explain` for the expected type"


def load_spec(path: str | os.PathLike[str], *, provider: Provider | None = None) -> LoadedSpec:
    """Load and validate a spec file. Raises :class:`SpecError` with every finding."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SpecError([Finding("error", "", "not a UTF-8 text file",
                                 fix="give the YAML install spec (acp-install init writes one)")],
                        source=source) from None
    except OSError as err:
        raise SpecError([Finding("error", "", f"cannot read spec: {err.strerror}",
                                 fix="check the path given with -f")], source=source) from None
    try:
        docs = load_all(text)
    except YamlSyntaxError as err:
        raise SpecError([Finding("error", "", f"not valid YAML: {err}", line=err.line,
                                 fix="fix the YAML syntax at that line")], source=source) from None
    if len(docs) != 1:
        raise SpecError([Finding("error", "", f"expected one YAML document, found {len(docs)}",
                                 fix="keep a single document in the spec file")], source=source)
    data, index, _start = docs[0]
    return parse(data, source=source, index=index, provider=provider)
