"""Reading a spec from YAML or from the environment, with every finding pointing at a line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs

from ..errors import SpecError
from ..inputs import MAX_SPEC_BYTES, UnreadableInput, read_text
from ..plugins import Provider, load_provider
from ..records import Finding, SpecAlias
from ..yamlio import LineIndex, YamlSyntaxError, line_of, load_all
from . import checks
from .converter import BROKEN, structure, structure_partial
from .findings import ordered, structural
from .model import InstallSpec


@attrs.frozen
class LoadedSpec:
    """A validated spec, its provider, and the warnings found on the way."""

    spec: InstallSpec
    provider: Provider
    warnings: tuple[Finding, ...] = ()
    source: str = "<spec>"


def _locate(findings: list[Finding], index: LineIndex) -> list[Finding]:
    return ordered(f if f.line else attrs.evolve(f, line=line_of(index, f.path)) for f in findings)


def _fail(findings: list[Finding], index: LineIndex, source: str) -> SpecError:
    return SpecError(_locate(findings, index), source=source)


def _get(data: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _moved(data: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """``data`` with the value at ``old`` moved to ``new`` (copying only the mappings on the way)."""
    def without(node: Mapping[str, Any], parts: list[str]) -> tuple[dict[str, Any], Any]:
        out = dict(node)
        if len(parts) == 1:
            return out, out.pop(parts[0])
        out[parts[0]], value = without(out[parts[0]], parts[1:])
        return out, value

    def put(node: Mapping[str, Any], parts: list[str], value: Any) -> dict[str, Any]:
        out = dict(node)
        if len(parts) == 1:
            out[parts[0]] = value
        else:
            child = out.get(parts[0])
            out[parts[0]] = put(child if isinstance(child, Mapping) else {}, parts[1:], value)
        return out

    data, value = without(data, old.split("."))
    return put(data, new.split("."), value)


def _apply_aliases(data: dict[str, Any], aliases: tuple[SpecAlias, ...], index: LineIndex,
                   findings: list[Finding]) -> dict[str, Any]:
    """Rename the old keys the provider still accepts, warning about each (an error if both)."""
    for alias in aliases:
        old, new = alias.old, alias.new
        if not _get(data, old)[0]:
            continue
        if _get(data, new)[0]:
            findings.append(Finding("error", old, f"both {old} and {new} are set",
                                    fix=f"keep only {new}", rule="alias"))
            continue
        findings.append(Finding("warning", old, f"{old} is the old name of {new}",
                                fix=f"rename it to {new}", rule="alias"))
        data = _moved(data, old, new)
        if old in index:
            index[new] = index[old]
    return data


def parse(data: Any, *, source: str = "<spec>", index: LineIndex | None = None,
          provider: Provider | None = None) -> LoadedSpec:
    """Turn plain data into a validated :class:`LoadedSpec` or raise :class:`SpecError`.

    One pass reports everything: structural errors (unknown keys, wrong types, missing fields)
    beside the semantic findings of every check that does not read a broken field. The
    provider's ``acp_validate`` needs a whole spec, so it runs only when nothing but unknown
    keys (reported and dropped) failed to structure.
    """
    index = index or {}
    findings: list[Finding] = []
    if not isinstance(data, Mapping):
        raise SpecError([Finding("error", "", "the spec must be a YAML mapping",
                                 fix="start from `acp-install init`")], source=source)
    data = dict(data)
    raw = dict(data)  # the platform section is popped from data below
    provider_id = data.get("provider")
    if provider is None and isinstance(provider_id, str):
        provider = load_provider(provider_id)
    if provider is not None:
        data = _apply_aliases(data, provider.info.aliases, index, findings)

    roots: list[tuple[type, str]] = [(InstallSpec, "")]
    platform_raw = data.pop("platform", None)
    spec, errors, broken = structure_partial(data, InstallSpec, skip=frozenset({"platform"}))
    platform: Any = BROKEN  # until the provider's class structures it
    if provider is not None and platform_raw is None:
        errors.append(("platform", "required field missing"))
    elif provider is not None:
        roots.append((provider.info.platform_type, "platform"))
        platform, perrs = structure(platform_raw, provider.info.platform_type, prefix="platform")
        errors.extend(perrs)
        if perrs:
            platform = BROKEN
    if platform is BROKEN:
        broken.add("platform")
    pid = provider.id if provider is not None else None
    findings.extend(structural(path, msg, roots, pid) for path, msg in errors)
    spec = attrs.evolve(spec, platform=platform)
    core = list(checks.check(spec, broken))
    own = provider.validate(spec) if provider is not None and not broken else []
    # a provider that makes a core warning an error (e.g. replicas) is the one voice on that field
    overruled = {f.path for f in own if f.severity == "error"}
    findings.extend(f for f in core if not (f.severity == "warning" and f.path in overruled))
    findings.extend(own)
    if provider is not None:
        from .example import example_values

        findings.extend(example_values(raw, provider))
    if any(f.severity == "error" for f in findings) or provider is None:
        raise _fail(findings, index, source)
    return LoadedSpec(spec, provider, tuple(_locate(findings, index)), source)


def read_document(path: str | os.PathLike[str], *, what: str = "spec",
                  fix: str = "give the YAML install spec (acp-install init writes one)") -> tuple[Any, LineIndex]:
    """The one YAML document of a file and the line of each of its paths; :class:`SpecError`
    (naming the file, and the line of a syntax error) when it is unreadable or not one document."""
    source = str(path)
    try:
        text = read_text(path, limit=MAX_SPEC_BYTES, what=what)
    except UnreadableInput as err:
        raise SpecError([Finding("error", "", err.message,
                                 fix=fix if "text file" in err.message else err.fix)],
                        source=source) from None
    try:
        docs = load_all(text)
    except YamlSyntaxError as err:
        raise SpecError([Finding("error", "", f"not valid YAML: {err}", line=err.line,
                                 fix="fix the YAML syntax at that line")], source=source) from None
    if len(docs) != 1:
        raise SpecError([Finding("error", "", f"expected one YAML document, found {len(docs)}",
                                 fix=f"keep a single document in the {what} file")], source=source)
    data, index, _start = docs[0]
    return data, index


def load_spec(path: str | os.PathLike[str], *, provider: Provider | None = None) -> LoadedSpec:
    """Load and validate a spec file. Raises :class:`SpecError` with every finding."""
    data, index = read_document(path)
    return parse(data, source=str(path), index=index, provider=provider)
