"""``acp-install plugin new``: write a provider distribution that works as generated.

Text files come from the jinja2 templates under ``templates/scaffold/`` (``__package__`` in a
path becomes the package name, a trailing ``.j2`` is dropped). The CRD schemas are Kubernetes
objects, so they are built as data here and written in the format
``python -m acp_install_sandbox.schemagen`` produces — honest placeholders for the scaffold's own
kinds, until the author generates the real ones. The golden files are what the generated provider
renders from its own ``init`` example, produced by the core's planner itself.

The tree is written into a temporary sibling directory and renamed into place at the end, so a
failure leaves nothing behind.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import attrs

from . import templating
from .errors import AcpInstallError, UsageError

#: A provider id: lowercase, starts with a letter, words joined by ``_`` (it becomes the
#: package ``acp_install_<id>`` and, CamelCased, the prefix of the kinds).
ID = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
MAX_ID = 40
#: Ids the core already uses: ``cluster-api-provider-kubeadm`` is the core's own package.
RESERVED = frozenset({"kubeadm", "core", "sandbox"})
GROUP = "infrastructure.cluster.x-k8s.io"
PLACEHOLDER = "placeholder"
TEMPLATES = "scaffold/"


@attrs.frozen
class Names:
    """Every name derived from the provider id, in one place."""

    id: str
    #: the id as a Kubernetes name part (``_`` is not allowed there): the chart's release name
    slug: str
    distribution: str
    package: str
    kind: str
    plural: str
    display: str
    env_prefix: str

    @classmethod
    def of(cls, provider_id: str) -> Names:
        words = provider_id.split("_")
        kind = "".join(w.capitalize() for w in words)
        slug = "-".join(words)
        return cls(id=provider_id, slug=slug, distribution=f"acp-install-{slug}",
                   package=f"acp_install_{provider_id}", kind=kind, plural=kind.lower(),
                   display=" ".join(w.capitalize() for w in words), env_prefix=provider_id.upper())


@attrs.frozen
class WireValues:
    """The installer's wire values a provider declares in ``ProviderInfo`` (Steps 3, 7, 8).

    The procedure documents one set for every provider; the core names none of them (they carry
    a provider's name for historical reasons). The scaffold therefore takes them from the
    command line or, for those not given, from an installed provider, and says which.
    """

    installer_endpoint: str
    import_configmap: str
    chart_cluster_type: str
    source: str = "the command line"


def wire_values(installer_endpoint: str | None = None, import_configmap: str | None = None,
                chart_cluster_type: str | None = None) -> WireValues:
    given = {"installer_endpoint": installer_endpoint, "import_configmap": import_configmap,
             "chart_cluster_type": chart_cluster_type}
    if all(given.values()):
        return WireValues(**given)  # type: ignore[arg-type]
    from .plugins import installed, load_provider

    for provider_id in sorted(installed()):
        try:
            info = load_provider(provider_id).info
        except AcpInstallError:
            continue  # a broken provider is no source
        values = {k: v or getattr(info, k) for k, v in given.items()}
        return WireValues(**values, source=f"the installed provider {provider_id!r}")
    missing = ", ".join("--" + k.replace("_", "-") for k, v in given.items() if not v)
    raise UsageError("no installed provider to copy the installer's wire values from",
                     hint=f"give {missing} (the values the procedure documents for Steps 8, 7 and 3; "
                          "see docs/plugin-authors.md, 'Installer wire values')")


def check_name(name: str) -> Names:
    """The names of a new provider, or a :class:`UsageError` saying what to type instead."""
    if not ID.fullmatch(name) or len(name) > MAX_ID:
        raise UsageError(f"provider name {name!r} is not a provider id",
                         hint=f"use lowercase letters and digits, words joined by '_', starting with a letter, "
                              f"at most {MAX_ID} characters (e.g. my_cloud)")
    if name in RESERVED:
        raise UsageError(f"provider name {name!r} is reserved by acp-install", hint="choose another name")
    from .plugins import installed

    present = installed()
    if name in present:
        raise UsageError(f"a provider {name!r} is already installed ({present[name].distribution})",
                         hint="choose another name: provider ids are unique in an environment")
    return Names.of(name)


def _requirement(distribution: str) -> str:
    """``dist>=X.Y,<X.Y+1`` for the installed version: the scaffold speaks this release's API."""
    try:
        major, minor = metadata.version(distribution).split(".")[:2]
    except (metadata.PackageNotFoundError, ValueError):
        return distribution
    return f"{distribution}>={major}.{minor},<{major}.{int(minor) + 1}"


def _text_files(names: Names, wire: WireValues) -> dict[str, str]:
    env = templating.environment()
    context = {"n": names, "wire": wire, "core_requirement": _requirement("acp-install"),
               "sandbox_requirement": _requirement("acp-install-sandbox")}
    files = {}
    for template in env.list_templates(filter_func=lambda t: t.startswith(TEMPLATES)):
        target = template.removeprefix(TEMPLATES).replace("__package__", names.package).removesuffix(".j2")
        files[target] = env.get_template(template).render(**context)
    return files


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def _crd(names: Names, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    plural = f"{kind.lower()}s"
    schema = _object({
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": spec,
        # the controllers own status; the placeholder does not pretend to know its shape
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    })
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {"group": GROUP, "scope": "Namespaced",
                 "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()},
                 "versions": [{"name": "v1beta1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": schema}, "subresources": {"status": {}}}]},
    }


def placeholder_crds(names: Names) -> list[dict[str, Any]]:
    """Minimal structural CRDs for exactly the fields the generated ``plugin.py`` renders."""
    integer = {"type": "integer", "format": "int32", "minimum": 1}
    machine = _object({"image": {"type": "string"}, "cpu": integer, "memoryMiB": integer, "diskGiB": integer,
                       "providerID": {"type": "string"}}, ("image", "cpu", "memoryMiB", "diskGiB"))
    cluster = _object({
        "controlPlaneEndpoint": _object({"host": {"type": "string"}, "port": {"type": "integer", "format": "int32"}},
                                        ("host", "port")),
        "credentialSecretRef": _object({"name": {"type": "string"}}, ("name",)),
    }, ("credentialSecretRef",))
    template = _object({"template": _object({"spec": machine}, ("spec",))}, ("template",))
    return [_crd(names, f"{names.kind}Cluster", cluster), _crd(names, f"{names.kind}Machine", machine),
            _crd(names, f"{names.kind}MachineTemplate", template)]


def _crd_files(names: Names) -> dict[str, str]:
    folder = f"{names.package}/crds"
    crds = placeholder_crds(names)
    # the layout schemagen writes: one compact JSON per CRD, sorted keys, and PROVENANCE.json
    files = {f"{folder}/{c['metadata']['name']}.json": json.dumps(c, sort_keys=True, separators=(",", ":")) + "\n"
             for c in crds}
    provenance = {
        "generator": f"acp-install plugin new {names.id}",
        "note": (f"PLACEHOLDERS: minimal structural CRDs for the fields the generated plugin.py renders, "
                 f"not published by any infrastructure provider. Replace them with the provider's real CRDs: "
                 f"python -m acp_install_sandbox.schemagen CRD_DIR {folder}/ --source '<repo>@<commit>:<path>'"),
        "source": PLACEHOLDER,
        "files": {Path(p).name: {"from": PLACEHOLDER, "sha256": ""} for p in sorted(files)},
    }
    files[f"{folder}/PROVENANCE.json"] = json.dumps(provenance, indent=2, sort_keys=True) + "\n"
    return files


def _write_golden(root: Path, names: Names) -> None:
    """Render the generated provider's ``init`` example with the core's planner into ``tests/golden``.

    The package is imported from ``root`` for the duration (it is not installed yet) and
    forgotten afterwards, so the process is left as it was found.
    """
    from .plan import build_plan, write_plan
    from .plugins import Provider
    from .spec.example import example_spec
    from .spec.load import load_spec

    def forget() -> None:
        for module in [m for m in sys.modules if m == names.package or m.startswith(names.package + ".")]:
            del sys.modules[module]
        templating.environment.cache_clear()

    forget()
    sys.path.insert(0, str(root))
    try:
        provider = Provider(importlib.import_module(f"{names.package}.plugin"), distribution=names.distribution)
        spec = root / "tests" / "golden-spec.yaml"
        spec.write_text(example_spec(provider))
        try:
            write_plan(build_plan(load_spec(spec, provider=provider)), root / "tests" / "golden")
        finally:
            spec.unlink()
    finally:
        sys.path.remove(str(root))
        forget()


def default_directory(name: str) -> Path:
    return Path.cwd() / Names.of(name).distribution


def scaffold(name: str, out: Path | None = None, wire: WireValues | None = None
             ) -> tuple[Names, Path, list[Path]]:
    """Write the provider distribution ``name`` into ``out`` (default ``./acp-install-<name>``).

    Refuses a bad or taken name and a non-empty ``out``. Returns the names, the directory and
    every file written, relative to it.
    """
    names = check_name(name)
    wire = wire or wire_values()
    target = (out or default_directory(name)).absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} exists and is not an empty directory",
                         hint="give --out a new or empty directory; nothing was written")
    if not target.parent.is_dir():
        raise UsageError(f"{target.parent} is not a directory", hint="create it first, or choose another --out")
    files = {**_text_files(names, wire), **_crd_files(names)}
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for rel, text in files.items():
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            (staging / rel).write_text(text)
        _write_golden(staging, names)
        written = sorted(p.relative_to(staging) for p in staging.rglob("*") if p.is_file())
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp made it private; the result is an ordinary directory
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return names, target, written
