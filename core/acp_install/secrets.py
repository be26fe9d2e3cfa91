"""Secrets are a type, not a string.

A :class:`SecretRef` says *where* a secret lives (a file or an environment variable); it never
holds a literal. :meth:`SecretRef.reveal` reads the value at the last moment and returns a
:class:`SecretValue`, whose ``repr``/``str`` are redacted, so a secret that slips into a log line,
an event, an exception or the state file shows as ``<redacted>``. Only code that must send or
write the value calls :meth:`SecretValue.get`.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from .errors import SecretError

REDACTED = "<redacted>"


@attrs.frozen(repr=False)
class SecretValue:
    """A revealed secret. Redacted in every textual form but :meth:`get`."""

    _value: str = attrs.field(alias="value")
    source: str = ""

    def get(self) -> str:
        """The plaintext; call only where the value is sent or written to a 0600 file."""
        return self._value

    def b64(self) -> str:
        """Base64 of the plaintext (what the installer API expects for passwords)."""
        return base64.b64encode(self._value.encode()).decode()

    def __repr__(self) -> str:
        return f"SecretValue({REDACTED}, source={self.source!r})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return REDACTED


@attrs.frozen
class SecretRef:
    """Where a secret is read from: exactly one of ``file`` or ``env``.

    Attributes:
        file: path of a file holding the value (one trailing newline is stripped).
        env: name of an environment variable holding the value.
    """

    file: str | None = None
    env: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.file is None) == (self.env is None):
            raise ValueError("give exactly one of 'file' or 'env'")

    @property
    def source(self) -> str:
        """Human description of the reference, safe to print."""
        return f"file {self.file}" if self.file is not None else f"env ${self.env}"

    def placeholder(self, *, b64: bool = False) -> str:
        """What rendered files show instead of the value when secrets are not included."""
        kind = "base64 of secret" if b64 else "secret"
        return f"<{kind} from {self.source}>"

    def available(self) -> bool:
        """Whether :meth:`reveal` would succeed, without reading the value into memory."""
        if _from_resolver(self):
            return True
        if self.file is not None:
            return Path(self.file).is_file()
        return bool(os.environ.get(self.env or ""))

    def reveal(self) -> SecretValue:
        """Read the secret. Raises :class:`SecretError` naming the reference, never the value."""
        value = _from_resolver(self)
        if value is not None:
            if not value:
                raise SecretError(f"secret {self.source} is empty (in-memory resolver)",
                                  hint="give the resolver a non-empty value for it")
            return SecretValue(value, source=self.source)
        if self.file is not None:
            from .inputs import UnreadableInput, read_text

            try:
                raw = read_text(self.file, limit=1 << 20, what="secret file")
            except UnreadableInput as err:
                detail = err.message.removeprefix("cannot read secret file: ")
                raise SecretError(
                    f"cannot read secret {self.source}: {detail}",
                    hint="create the file (mode 0600) or point the reference at an existing one",
                ) from None
            value = raw[:-1] if raw.endswith("\n") else raw
        else:
            value = os.environ.get(self.env or "", "")
            if not value:
                raise SecretError(
                    f"secret {self.source} is not set",
                    hint=f"export {self.env}=... before running, or use a file reference",
                )
        if not value:
            raise SecretError(f"secret {self.source} is empty", hint="put the value in it")
        return SecretValue(value, source=self.source)


#: An embedder's source of secret values: the value of a reference, or ``None`` to read the
#: reference's own file or variable. See :func:`resolving`.
SecretResolver = Callable[[SecretRef], str | None]

_resolver: contextvars.ContextVar[SecretResolver | None] = contextvars.ContextVar(
    "acp_install_secret_resolver", default=None)


@contextlib.contextmanager
def resolving(resolver: SecretResolver | None) -> Iterator[None]:
    """Within the block (this thread/context only), :meth:`SecretRef.reveal` asks ``resolver``
    first: for embedders that hold secrets in memory and can use neither env nor files."""
    token = _resolver.set(resolver)
    try:
        yield
    finally:
        _resolver.reset(token)


def _from_resolver(ref: SecretRef) -> str | None:
    resolver = _resolver.get()
    if resolver is None:
        return None
    try:
        value = resolver(ref)
    except Exception as err:  # the resolver's own text may quote a value: name the type only
        raise SecretError(f"the secret resolver failed for {ref.source}: {type(err).__name__}",
                          hint="fix the resolver given to the engine (secrets=...)") from None
    if value is not None and not isinstance(value, str):
        raise SecretError(f"the secret resolver returned {type(value).__name__} for "
                          f"{ref.source}, expected a str or None",
                          hint="return the value as a str, or None to read the reference")
    return value


@attrs.frozen
class Base64Of:
    """Marks a place in rendered data that holds the base64 of a secret (installer passwords)."""

    ref: SecretRef


@attrs.frozen
class SecretText:
    """Text with secrets inside (e.g. an EncryptionConfiguration holding its key).

    ``template`` is a ``str.format`` template; each field is filled from ``refs`` with the
    value, or its placeholder when secrets are not revealed.
    """

    template: str
    refs: dict[str, SecretRef] = attrs.field(factory=dict)

    def render(self, *, reveal: bool) -> str:
        values = {k: (r.reveal().get() if reveal else r.placeholder()) for k, r in self.refs.items()}
        return self.template.format(**values)


def spec_refs(value: Any) -> Iterator[SecretRef]:
    """Every :class:`SecretRef` inside a spec (attrs records, mappings, sequences), in order."""
    if isinstance(value, SecretRef):
        yield value
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            yield from spec_refs(getattr(value, field.name))
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from spec_refs(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from spec_refs(v)


def secret_refs(data: Any) -> Iterator[SecretRef | SecretText]:
    """Every secret in rendered plan data (objects, payloads), in document order; a
    :class:`Base64Of` yields its reference (the same walk as ``yamlio.resolve_secrets``)."""
    if isinstance(data, SecretRef | SecretText):
        yield data
    elif isinstance(data, Base64Of):
        yield data.ref
    elif isinstance(data, Mapping):
        for value in data.values():
            yield from secret_refs(value)
    elif isinstance(data, list | tuple):
        for value in data:
            yield from secret_refs(value)


def holds_secret(data: Any) -> bool:
    """Whether ``data`` is or contains a secret of any kind (reference, text or revealed value)."""
    if isinstance(data, SecretValue | SecretRef | SecretText | Base64Of):
        return True
    if isinstance(data, Mapping):  # keys too: a secret must not name a label either
        return any(holds_secret(k) or holds_secret(v) for k, v in data.items())
    if isinstance(data, list | tuple):
        return any(holds_secret(v) for v in data)
    return False


#: Metadata fields that are never secret: Kubernetes lists, logs and copies them to other objects
#: (a MachineDeployment's template labels end up on every Machine and Node).
PUBLIC_METADATA = ("labels", "annotations")


def metadata_secrets(obj: Any, path: str = "") -> Iterator[str]:
    """Paths of every label or annotation of a rendered object (its own ``metadata`` and any
    nested one, e.g. ``spec.template.metadata``) that holds a secret, in document order."""
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            here = f"{path}.{key}" if path else str(key)
            if key == "metadata" and isinstance(value, Mapping):
                for field in PUBLIC_METADATA:
                    entries = value.get(field)
                    if isinstance(entries, Mapping):
                        yield from (f"{here}.{field}[{k!r}]" for k, v in entries.items()
                                    if holds_secret(k) or holds_secret(v))
                    elif entries is not None and holds_secret(entries):
                        yield f"{here}.{field}"
            else:
                yield from metadata_secrets(value, here)
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            yield from metadata_secrets(value, f"{path}[{i}]")
