"""spec + provider hooks -> :class:`InstallPlan`, and writing a plan to a directory.

The plan is pure: no network, no clock, no randomness, so the same spec always gives
byte-identical files. Everything the engine will apply or send is in it, so a reviewer can read
it all in ``render``'s output before anything happens.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from . import artifacts, naming, wiring
from .errors import PluginError, SpecError
from .inputs import UnreadableInput, read_text
from .records import Finding, ImportEntry, KubeObject, ProviderInfo, ProviderPackage, RunbookStep
from .secrets import SecretText, metadata_secrets
from .spec.load import LoadedSpec
from .spec.model import InstallSpec
from .templating import render
from .yamlio import dump_all, has_secrets, resolve_secrets


@attrs.frozen
class InstallPlan:
    """Every artifact of one install, in the order the engine uses them."""

    spec: InstallSpec
    provider: ProviderInfo
    packages: tuple[ProviderPackage, ...]
    appreleases: tuple[KubeObject, ...]
    package_objects: tuple[KubeObject, ...]
    manifest: tuple[KubeObject, ...]
    extra_resources: KubeObject | None
    installer_payload: dict[str, Any]
    dr_files: tuple[tuple[str, Any], ...] = ()
    warnings: tuple[Finding, ...] = ()
    runbook_steps: tuple[RunbookStep, ...] = ()

    @property
    def wait_crds(self) -> tuple[str, ...]:
        return tuple(crd for p in self.packages for crd in p.wait_crds)

    def files(self, *, include_secrets: bool = False) -> dict[str, tuple[str, bool]]:
        """File name -> (content, holds a secret value). Secrets are placeholders unless asked."""

        def text(data: Any, fmt: str) -> tuple[str, bool]:
            secret = include_secrets and has_secrets(data)
            resolved = resolve_secrets(data, reveal=include_secrets)
            if fmt == "json":
                return json.dumps(resolved, indent=2) + "\n", secret
            return dump_all(resolved), secret

        sources: dict[str, Any] = {
            "appreleases.yaml": [*self.package_objects, *self.appreleases],
            "global.yaml": list(self.manifest),
        }
        if self.extra_resources is not None:
            sources["extra-resources.yaml"] = [self.extra_resources]
        sources["installer-config.json"] = self.installer_payload
        out = {name: text(data, "json" if name.endswith(".json") else "yaml")
               for name, data in sources.items()}
        for name, data in self.dr_files:
            out[f"dr/{name}"] = (resolve_secrets(data, reveal=include_secrets),
                                 include_secrets and has_secrets(data))
            sources[f"dr/{name}"] = data
        # the runbook guards every command that sends a file still holding placeholders
        from .engine import stalls  # the Common Stalls table (imported here: engine imports plan)

        placeholders = [] if include_secrets else [n for n, d in sources.items() if has_secrets(d)]
        out["RUNBOOK.md"] = (render("RUNBOOK.md.j2", plan=self, placeholders=placeholders,
                                    q=shlex.quote, stalls=stalls.ALL), False)
        return out


def build_plan(loaded: LoadedSpec) -> InstallPlan:
    """Ask the provider for its parts and assemble the plan; naming is checked on the result."""
    spec, provider = loaded.spec, loaded.provider
    info = provider.info
    packages = provider.packages(spec)
    manifest_part = wiring.merge_manifests(provider.manifest(spec))
    dr_objects: list[KubeObject] = []
    dr_imports: list[ImportEntry] = []
    if spec.dr is not None:
        for dr in provider.dr_fields(spec, spec.dr.role):
            manifest_part = attrs.evolve(manifest_part,
                                         kubeadm=wiring.merge_kubeadm(manifest_part.kubeadm, dr.kubeadm),
                                         objects=tuple(_patch_infra(manifest_part.objects, info,
                                                                    dr.infra_cluster_spec)))
            dr_objects.extend(dr.objects)
            dr_imports.extend(dr.import_entries)

    try:
        override = (read_text(spec.controlPlane.auditPolicyFile, limit=1 << 20, what="audit policy file")
                    if spec.controlPlane.auditPolicyFile else None)
    except UnreadableInput as err:  # it was readable when the spec was checked
        raise SpecError([Finding("error", "controlPlane.auditPolicyFile", err.message, fix=err.fix)],
                        source=loaded.source) from None
    # a provider shipping its complete documented base gets no core baseline; others get the
    # core's hardened body (with its metadata-level default audit policy)
    audit = override if override is not None else render("files/audit-policy.yaml.j2")
    body = manifest_part.kubeadm
    if not body.complete:
        body = wiring.merge_kubeadm(wiring.baseline_kubeadm(
            spec, worker=False, kubelet_extra=body.kubelet_config, audit_policy=audit), body)
    if override is not None:
        body = wiring.with_audit_policy(body, override)
    body = wiring.with_api_server_args(body, spec.controlPlane.apiServerExtraArgs)
    worker_extra = {k: v for w in manifest_part.workers for k, v in w.kubeadm.kubelet_config.items()}
    worker_base = wiring.baseline_kubeadm(spec, worker=True, kubelet_extra=worker_extra,
                                          audit_policy=audit)
    objects: list[KubeObject] = [*dr_objects, *manifest_part.objects]
    objects.append(wiring.control_plane(spec, info, manifest_part, body))
    objects.append(wiring.cluster(spec, info, manifest_part))
    objects.extend(wiring.workers(spec, info, manifest_part.workers, worker_base))
    objects.extend(manifest_part.trailing_objects)

    problems = naming.check(objects, extra_groups=info.owned_api_groups)
    if problems:
        raise SpecError(problems, source=loaded.source)

    entries = [*provider.extra_resources(spec, tuple(objects)), *dr_imports]
    extra = artifacts.extra_resources_configmap(spec, info, entries) if entries else None
    payload = artifacts.installer_payload(spec, provider.installer_payload(spec))
    dr_files: list[tuple[str, Any]] = []
    if spec.dr is not None:
        dr_files.append(("encryption-provider.conf", encryption_config(spec)))
    plan = InstallPlan(
        spec=spec,
        provider=info,
        packages=tuple(packages),
        appreleases=tuple(artifacts.apprelease(spec, info, p) for p in packages),
        package_objects=tuple(o for p in packages for o in p.extra_objects),
        manifest=tuple(objects),
        extra_resources=extra,
        installer_payload=payload,
        dr_files=tuple(dr_files),
        warnings=loaded.warnings,
        runbook_steps=tuple(provider.runbook_steps(spec)),
    )
    _refuse_secrets_in_metadata(plan, loaded)
    return plan


def _refuse_secrets_in_metadata(plan: InstallPlan, loaded: LoadedSpec) -> None:
    """Labels and annotations are public (listed, logged, copied onto Machines and Nodes), so a
    secret there is a provider bug: refused while planning, before anything is applied."""
    provider = loaded.provider
    extra = [plan.extra_resources] if plan.extra_resources is not None else []
    for obj in [*plan.package_objects, *plan.appreleases, *plan.manifest, *extra]:
        for path in metadata_secrets(obj):
            meta = obj.get("metadata") or {}
            raise PluginError(
                f"provider {provider.id!r} ({provider.distribution}) put a secret into "
                f"{obj.get('kind', '?')}/{meta.get('name', '?')} at {path}: labels and annotations "
                "are readable by anyone who can list the object",
                hint="put the secret in a Secret's stringData and reference the Secret by name",
                distribution=provider.distribution,
            )


def encryption_config(spec: InstallSpec) -> SecretText:
    """The DR EncryptionConfiguration shared by both sides (key from ``dr.encryptionKey``)."""
    assert spec.dr is not None
    return SecretText(render("files/encryption-provider.conf.j2", key="{key}"),
                      {"key": spec.dr.encryptionKey})


def _patch_infra(objects: tuple[KubeObject, ...], info: ProviderInfo,
                 spec_patch: Any) -> list[KubeObject]:
    if not spec_patch:
        return list(objects)
    out = []
    for obj in objects:
        if obj.get("kind") == info.infra_cluster_kind and obj["metadata"]["name"] == naming.GLOBAL:
            obj = {**obj, "spec": wiring.deep_merge(obj.get("spec", {}), spec_patch)}
        out.append(obj)
    return out


def write_plan(plan: InstallPlan, directory: str | os.PathLike[str], *,
               include_secrets: bool = False, overwrite: bool = True,
               protect: Iterable[tuple[str, str | os.PathLike[str]]] = ()) -> list[Path]:
    """Write every file of the plan; a file holding a secret value is created 0600.

    Contents are computed completely before the first write, so a failure (e.g. an unreadable
    secret) leaves no half-written directory behind. Nothing is written through a symlinked
    sub-directory; ``overwrite=False`` refuses any existing file and ``protect`` names files
    (e.g. the spec) never overwritten (both refused with :class:`UsageError` before the first
    write). See :mod:`acp_install.outdir`.
    """
    from .outdir import write_files

    return write_files(directory, plan.files(include_secrets=include_secrets),
                       overwrite=overwrite, protect=protect)
