"""``acp-install lint``: the naming convention on manifests a user wrote by hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import naming
from .inputs import MAX_MANIFEST_BYTES, UnreadableInput, read_text
from .records import Finding
from .yamlio import LineIndex, YamlSyntaxError, line_of, load_all


def _owned_groups() -> set[str]:
    """API groups every installed provider declares as owned by the global cluster."""
    import warnings

    from .plugins import load_all

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded, _broken = load_all()
    return {g for p in loaded for g in p.info.owned_api_groups}


def lint_files(files: Sequence[str]) -> list[Finding]:
    """Findings for all files together (references may cross files), each with file:line."""
    objects: list[dict[str, Any]] = []
    where: list[tuple[str, LineIndex, int]] = []
    findings: list[Finding] = []
    for name in files:
        try:
            docs = load_all(read_text(name, limit=MAX_MANIFEST_BYTES, what="manifest"))
        except UnreadableInput as err:
            findings.append(Finding("error", name, err.message, fix=err.fix))
            continue
        except YamlSyntaxError as err:
            findings.append(Finding("error", f"{name}:{err.line}", f"not valid YAML: {err}",
                                    fix="fix the YAML syntax"))
            continue
        found = 0
        for data, index, start in docs:
            if isinstance(data, dict) and data.get("kind"):
                objects.append(data)
                where.append((name, index, start))
                found += 1
            elif data is not None:
                findings.append(Finding("error", f"{name}:{start}", "not a Kubernetes object "
                                        "(a mapping with kind)", fix="lint manifests only"))
        if not found:
            findings.append(Finding("error", name, "no Kubernetes objects found",
                                    fix="give the manifest file(s) to check"))

    order: list[int] = []  # naming.check locates each finding once, in order

    def locate(i: int, field: str) -> int | None:
        order.append(i)
        return line_of(where[i][1], field) or where[i][2]

    for i, f in zip(order, naming.check(objects, locate, extra_groups=_owned_groups()),
                    strict=False):
        findings.append(Finding(f.severity, f"{where[i][0]}:{f.line} {f.path}", f.message,
                                fix=f.fix, rule=f.rule))
    return findings
