"""Canary secrets for the conformance suite: plant one in every secret reference, find any leak.

A canary is a unique random value put where a secret reference of the author's sample spec
points (an environment variable, or a 0600 file in a temporary directory for ``{file: ...}``
references). Anything the product writes or prints can then be scanned for it, and for its
base64 at every byte alignment (a secret base64-encoded inside a larger text, as in a Secret's
``data``, shows up that way).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest

from ..plugins import Provider
from ..secrets import spec_refs
from ..spec.load import load_spec
from ..yamlio import dump, load_all


def new_canary() -> str:
    """A unique value that is also the base64 of 32 bytes, so it passes as a password, a token
    or an aescbc encryption key alike."""
    return base64.b64encode(b"acp-canary:" + secrets.token_bytes(21)).decode()


def encodings(value: str) -> tuple[bytes, ...]:
    """``value`` and the parts of its base64 (standard and URL-safe) that do not depend on the
    bytes around it, for each of the three alignments it can have inside a longer text."""
    raw = value.encode()
    forms = [raw]
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            enc = encode(b"\0" * shift + raw)
            first = -(-8 * shift // 6)  # first character made of the value's bits only
            last = 8 * (shift + len(raw)) // 6
            forms.append(enc[first:last])
    return tuple(dict.fromkeys(forms))


@attrs.frozen
class Canaries:
    """The sample spec with a canary in every secret reference, and the scanner for them."""

    spec_path: Path
    #: the reference (``env $NAME``, ``file PATH`` of the original spec) -> its canary value
    values: Mapping[str, str]

    def leaks(self, data: str | bytes) -> list[str]:
        """The references whose canary (or base64 of it) occurs in ``data``."""
        blob = data.encode() if isinstance(data, str) else data
        return [source for source, value in self.values.items()
                if any(form in blob for form in encodings(value))]

    def assert_absent(self, data: str | bytes, where: str) -> None:
        """Fail naming the reference (never the value) when a canary is in ``data``."""
        leaked = self.leaks(data)
        assert not leaked, f"secret from {', '.join(leaked)} leaked into {where}"

    def assert_tree_absent(self, root: Path, where: str) -> None:
        """Scan every byte of every file under ``root``."""
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
            self.assert_absent(path.read_bytes(), f"{where}: {path.relative_to(root)}")


def plant(provider: Provider, text: str, directory: Path,
          monkeypatch: pytest.MonkeyPatch) -> Canaries:
    """Write the sample spec ``text`` into ``directory`` with a canary behind every secret
    reference: env references get an environment variable, file references a 0600 file here
    (the spec is rewritten to point at it)."""
    directory.mkdir(parents=True, exist_ok=True)
    probe = directory / "probe.yaml"
    probe.write_text(text)
    refs = list(spec_refs(load_spec(probe, provider=provider).spec))
    probe.unlink()
    values: dict[str, str] = {}
    for name in sorted({r.env for r in refs if r.env}):
        values[f"env ${name}"] = new_canary()
        monkeypatch.setenv(name, values[f"env ${name}"])
    moved: dict[str, str] = {}
    for i, path in enumerate(sorted({r.file for r in refs if r.file})):
        values[f"file {path}"] = new_canary()
        target = directory / f"secret-{i}"
        target.write_text(values[f"file {path}"] + "\n")
        target.chmod(0o600)
        moved[path] = str(target)
    if moved:
        data = load_all(text)[0][0]
        text = dump(_repoint(data, moved))
    spec_path = directory / "spec.yaml"
    spec_path.write_text(text)
    return Canaries(spec_path, values)


def _repoint(data: Any, moved: Mapping[str, str]) -> Any:
    """``data`` with every ``{file: PATH}`` reference of ``moved`` pointing at its canary file."""
    if isinstance(data, Mapping):
        if set(data) == {"file"} and data["file"] in moved:
            return {"file": moved[data["file"]]}
        return {k: _repoint(v, moved) for k, v in data.items()}
    if isinstance(data, list):
        return [_repoint(v, moved) for v in data]
    return data

