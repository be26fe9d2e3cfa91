"""Credential fields of a spec must be typed as secret references.

Nothing stops a provider author from typing a password ``str``: the spec would then take the
password as a literal, and the value would be rendered, logged and sent wherever the field goes.
This module finds such fields in a spec class; the core runs it on a provider's spec section
when the provider is loaded (:func:`check_spec_class`), so a provider breaking the rule never runs.

A field is a **credential** when

* its metadata says so: ``doc("...", secret=True)`` (and ``secret=False`` says it is not, the
  escape hatch for a name the rules below misread);
* a word of its name (camelCase or snake_case) is a credential noun (:data:`NOUNS`: password,
  secret, token, credential, ...) wherever it stands (``hostPassword``, ``accessToken``,
  ``passwordValue``, ``secretAccessKey``); ``key`` counts as the last word (``authKey``) unless
  the word before makes the value public or an identifier (:data:`NOT_SECRET_QUALIFIERS`:
  ``publicKey``, ``accessKey`` — the ID half of an AK/SK pair —, ``sshAuthorizedKeys``), and
  anywhere after ``private``/``secret``/``signing``/``api``/``auth``/``encryption``
  (``privateKeyPEM``); the plural *secrets* names Kubernetes Secret objects
  (``imagePullSecrets``), not values. A field named after what *locates* or *describes* a
  secret ends in such a word (:data:`DESCRIPTORS`) and is not a credential: ``keyFile``,
  ``passwordEnv``, ``providerSecretName``, ``secretType``, ``tokenTTL``;
* or its ``doc`` text calls the value a credential (:data:`DOC_PHRASES`: "password", "private
  key", "API token", ...), unless its name ends in a locator or descriptor word
  (:data:`DESCRIPTORS`: ``...File``, ``...Name``, ``...Type``, ...).

Booleans and ``Literal`` choices cannot carry a secret value and are never credentials. A field
whose type is an attrs class (or a list or optional of one) is a section: its own fields are
checked instead. A credential passes when its type is a secret reference (:data:`SECRET_TYPES`),
optionally inside ``| None``, a list, a tuple or the values of a dict.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, Union

import attrs

from .errors import PluginError
from .secrets import SecretRef, SecretValue

#: Types a credential field may have (possibly optional or in a container).
SECRET_TYPES: tuple[type, ...] = (SecretRef, SecretValue)

#: Words of a field name that make it a credential wherever they stand (``hostPassword``,
#: ``accessToken``, ``passwordValue``, ``secretAccessKey``).
NOUNS = frozenset({
    "password", "passwords", "passwd", "pwd", "passphrase", "pass",
    "secret", "token", "tokens", "credential", "credentials", "creds",
    "apikey", "privatekey",
})
#: ``key`` is a credential as the last word (``authKey``) or after one of these words anywhere
#: (``privateKeyPEM``), but not after a word that makes it public or an identifier.
KEY_WORDS = frozenset({"key", "keys"})
SECRET_KEY_QUALIFIERS = frozenset({"private", "secret", "signing", "api", "auth", "encryption"})

#: A word before ``key`` that makes the value public or an identifier, not a secret.
NOT_SECRET_QUALIFIERS = frozenset({"public", "pub", "access", "authorized", "host"})

#: Last words naming what locates or describes a secret rather than the secret itself.
DESCRIPTORS = frozenset({
    "file", "files", "path", "paths", "dir", "directory", "env", "var", "ref", "refs", "name",
    "names", "id", "ids", "type", "kind", "format", "algorithm", "mode", "length", "size",
    "bits", "url", "uri", "endpoint", "ttl", "expiry", "expiration", "lifetime", "policy",
    "version", "label", "labels", "annotation", "count", "user", "username", "owner", "fingerprint",
    "namespace", "hash", "digest", "rotation", "enabled",
})

#: Phrases in a field's ``doc`` text that call its value a credential (whole words, any case).
DOC_PHRASES = (
    "password", "passphrase", "private key", "secret key", "signing key", "api key",
    "access token", "api token", "auth token", "bearer token", "client secret",
)
_DOC_RE = re.compile(r"\b(" + "|".join(re.escape(p) for p in DOC_PHRASES) + r")\b", re.I)
_WORD_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def name_words(name: str) -> list[str]:
    """``sshAuthorizedKeys`` -> ``['ssh', 'authorized', 'keys']``; ``api_key`` -> ``['api', 'key']``;
    ``caCertPEM`` -> ``['ca', 'cert', 'pem']``."""
    return [w.lower() for w in _WORD_RE.findall(name)]


def is_credential(attribute: attrs.Attribute[Any]) -> bool:
    """Whether a field holds a credential, by its metadata, its name or its doc text."""
    explicit = attribute.metadata.get("secret")
    if explicit is not None:
        return bool(explicit)
    words = name_words(attribute.name)
    if not words:
        return False
    if words[-1] in DESCRIPTORS:
        return False
    if any(w in NOUNS for w in words):
        return True
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        if word in KEY_WORDS and (before in SECRET_KEY_QUALIFIERS
                                  or (i == len(words) - 1 and before not in NOT_SECRET_QUALIFIERS)):
            return True
    return bool(_DOC_RE.search(str(attribute.metadata.get("doc", ""))))


def is_secret_type(tp: Any) -> bool:
    """``SecretRef``, ``SecretRef | None``, ``list[SecretRef]``, ``dict[str, SecretRef]``..."""
    if isinstance(tp, type) and issubclass(tp, SECRET_TYPES):
        return True
    origin = typing.get_origin(tp)
    args = [a for a in typing.get_args(tp) if a is not type(None) and a is not Ellipsis]
    if origin is Union or origin is types.UnionType:
        return bool(args) and all(is_secret_type(a) for a in args)
    if origin in (dict, Mapping):
        return len(args) == 2 and is_secret_type(args[1])
    if origin in (list, tuple, set, frozenset, Sequence):
        return bool(args) and all(is_secret_type(a) for a in args)
    return False


def _cannot_hold_secret(tp: Any) -> bool:
    if tp is bool or typing.get_origin(tp) is Literal:
        return True
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return bool(args) and all(_cannot_hold_secret(a) for a in args)
    return False


def _sections(tp: Any) -> list[type]:
    """The attrs classes inside ``tp`` (``X``, ``X | None``, ``list[X]``, ``dict[str, X]``)."""
    if isinstance(tp, type) and attrs.has(tp):
        return [tp]
    return [c for arg in typing.get_args(tp) for c in _sections(arg)]


@attrs.frozen
class CredentialField:
    """A credential field that is not typed as a secret reference."""

    path: str  #: spec path, e.g. ``platform.credentials.password``
    owner: type  #: the attrs class declaring it
    name: str
    type_name: str

    @property
    def where(self) -> str:
        return f"{self.owner.__module__}.{self.owner.__qualname__}.{self.name}"


def untyped_credentials(cls: type, prefix: str = "") -> Iterator[CredentialField]:
    """Every credential field of ``cls`` (and its sections) whose type is not a secret reference.

    Raises :class:`NameError` (or another error of ``typing.get_type_hints``) when the class's
    annotations cannot be resolved.
    """
    yield from _walk(cls, prefix, set())


def _walk(cls: type, prefix: str, seen: set[type]) -> Iterator[CredentialField]:
    if cls in seen:
        return
    seen.add(cls)
    hints = typing.get_type_hints(cls)
    for attribute in attrs.fields(cls):
        path = f"{prefix}.{attribute.name}" if prefix else attribute.name
        tp = hints.get(attribute.name, attribute.type)
        sections = _sections(tp)
        if sections:
            for section in sections:
                yield from _walk(section, path, seen)
            continue
        if _cannot_hold_secret(tp) or is_secret_type(tp) or not is_credential(attribute):
            continue
        yield CredentialField(path, cls, attribute.name, _type_name(tp))


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return re.sub(r"[\w.]+\.(\w+)", r"\1", str(tp).replace("typing.", ""))


def check_spec_class(cls: Any, *, prefix: str, provider: str, distribution: str) -> None:
    """Refuse a spec class with a credential field not typed as a secret reference.

    Raises :class:`PluginError` naming the distribution, every offending class and field, and
    the fix. Called on the provider's ``platform_type`` when the provider is loaded.
    """
    if not (isinstance(cls, type) and attrs.has(cls)):
        return  # not an attrs class: the hook-result checks report that, not this rule
    try:
        bad = list(untyped_credentials(cls, prefix))
    except Exception as err:  # unresolvable annotations are a broken plugin, not a crash
        raise PluginError(
            f"provider {provider!r} ({distribution}): cannot resolve the field types of "
            f"{cls.__module__}.{cls.__qualname__}: {type(err).__name__}: {err}",
            hint="import every type its annotations name at module level",
            distribution=distribution,
        ) from None
    if not bad:
        return
    lines = [f"{f.path} ({f.where}) is a credential but typed {f.type_name}" for f in bad]
    raise PluginError(
        f"provider {provider!r} ({distribution}) declares credential field(s) that are not "
        "secret references, so the spec would take the secret as a literal:\n  "
        + "\n  ".join(lines),
        hint="type it as SecretRef (from acp_install.provider import SecretRef), so the spec "
             "takes {file: PATH} or {env: NAME}; if the field is not a credential, say so with "
             "doc(..., secret=False)",
        distribution=distribution,
    )
