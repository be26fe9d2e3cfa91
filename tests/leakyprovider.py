"""Deliberately broken variants of the fake Foo provider, each breaking one secret rule.

Used by tests/test_secret_hygiene.py: every one must be refused (at load, at plan) or caught
by the conformance suite's canary scan.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from acp_install import InstallSpec
from acp_install.provider import (
    ProviderInfo,
    ProviderManifest,
    SecretRef,
    SpecExample,
    doc,
    hookimpl,
)

from fakeprovider import FooProvider

Edit = Callable[[ProviderManifest], ProviderManifest]


def _edited(parts: ProviderManifest | Iterable[ProviderManifest], edit: Edit) -> Any:
    """The base provider's manifest with ``edit`` applied, in the shape the base returned it
    (one record, or an iterable of them as collecting hooks return)."""
    if isinstance(parts, ProviderManifest):
        return edit(parts)
    return [edit(p) for p in parts]


class Leaky(FooProvider):
    """The fake provider under the id it is registered with (an entry point's name is its id)."""

    def __init__(self, provider_id: str = "foo") -> None:
        self.provider_id = provider_id

    @hookimpl
    def acp_provider_info(self) -> ProviderInfo:
        return attrs.evolve(super().acp_provider_info(), id=self.provider_id)


@attrs.frozen
class Login:
    user: str
    password: str  # the bug: a credential typed str


@attrs.frozen
class StrPasswordPlatform:
    region: str
    login: Login
    token: SecretRef
    keyFile: str = "/etc/foo/ca.pem"  # a path, not a credential
    publicKey: str = ""  # public, not a credential
    vaultItem: str = attrs.field(default="", metadata=doc("Password of the Foo API user."))


class StrPassword(Leaky):
    """Types a password ``str`` (nested in a section) and describes another field as one."""

    @hookimpl
    def acp_provider_info(self) -> ProviderInfo:
        return attrs.evolve(super().acp_provider_info(), platform_type=StrPasswordPlatform)


class AnnotatesToken(Leaky):
    """Puts the platform token (a SecretRef) into an annotation of its FooCluster."""

    @hookimpl
    def acp_manifest(self, spec: InstallSpec) -> Any:
        annotation = {"foo.example/token": spec.platform.token}
        return _edited(super().acp_manifest(spec), lambda part: attrs.evolve(part, objects=tuple(
            {**o, "metadata": {**o["metadata"], "annotations": annotation}}
            if o["kind"] == "FooCluster" else o for o in part.objects)))


class FileTokenExample(Leaky):
    """A sample spec reading the token from a file, as authors often write it."""

    @hookimpl
    def acp_spec_example(self) -> SpecExample:
        return SpecExample("platform:\n  region: eu-1\n  token: {file: /root/foo.token}\n")


class RendersToken(FileTokenExample):
    """Reveals the file-referenced token into a ConfigMap of the manifest (a rendered file)."""

    @hookimpl
    def acp_manifest(self, spec: InstallSpec) -> Any:
        leak = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "global-foo-config", "namespace": spec.namespace},
                "data": {"token": spec.platform.token.reveal().get()}}
        return _edited(super().acp_manifest(spec),
                       lambda part: attrs.evolve(part, objects=(*part.objects, leak)))


class EncodesToken(FileTokenExample):
    """Base64-encodes the token inside a larger text in a Secret's ``data``: leaked all the same
    (anyone reading the rendered file can decode it)."""

    @hookimpl
    def acp_manifest(self, spec: InstallSpec) -> Any:
        conf = f"[auth]\nregion = eu-1\ntoken = {spec.platform.token.reveal().get()}\n"
        leak = {"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "global-foo-conf", "namespace": spec.namespace},
                "data": {"foo.conf": base64.b64encode(conf.encode()).decode()}}
        return _edited(super().acp_manifest(spec),
                       lambda part: attrs.evolve(part, objects=(*part.objects, leak)))


# entry points (their names are the ids): see tests/test_secret_hygiene.py
str_password = StrPassword("strpw")
annotates_token = AnnotatesToken("annotating")
file_token_example = FileTokenExample("leaky")
renders_token = RendersToken("leaky")
encodes_token = EncodesToken("leaky")
