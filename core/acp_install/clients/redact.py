"""Strip known secret values from text that came back from a server.

Why: an API server or the installer may echo what we sent — a validation error quoting a
field's value, a 4xx body repeating the request. Such text ends up in error messages, events
and the state file, so every piece of it passes through one :class:`Redactor` first. The
redactor is built from the plan's revealed secrets (each value, its base64, its JSON-escaped
form) and replaces each occurrence with ``<redacted>``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "<redacted>"
#: Shorter secrets cannot be removed from free text safely: ``global`` is also an object name
#: (``Cluster/global``), ``x`` is inside every other word. The engine refuses them unless
#: told otherwise (``allow_short_secrets``); then they are redacted as whole tokens only.
MIN_SECRET_LENGTH = 8
#: Characters that continue a name or an encoded token: a short secret next to one of them is
#: part of something else, not the value itself.
_TOKEN = r"A-Za-z0-9_.\-/+="


class Redactor:
    """A callable ``text -> text`` that replaces every registered secret value.

    Values of :data:`MIN_SECRET_LENGTH` characters or more (and their encodings) are replaced
    wherever they occur; shorter ones only where they stand alone (quoted, or between spaces
    and punctuation), so names and words that merely contain them stay intact. Whole string
    values in data (:meth:`data`) are replaced whatever their length.

    It holds plaintext values, so it never shows them: ``repr`` gives only their count.
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._needles: list[str] = []
        self._short: list[str] = []
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for value in values:
            self.add(value)

    def add(self, value: str) -> None:
        """Register a secret value; its base64 and JSON-escaped forms are registered too."""
        if not value:
            return
        forms = {value, base64.b64encode(value.encode()).decode(),
                 json.dumps(value)[1:-1]}
        # the base64 without padding shows up when it is part of a longer encoded text
        forms.add(base64.b64encode(value.encode()).decode().rstrip("="))
        self._values.update(forms)
        short = {f for f in forms if len(f) < MIN_SECRET_LENGTH}
        if value in short and value not in self._short:
            self._short.append(value)
        new = [f for f in forms - short if f not in self._needles]
        self._short.extend(f for f in short if f not in self._short and f != value)
        # longest first, so a value inside another one's base64 cannot leave a tail behind
        self._needles = sorted([*self._needles, *new], key=len, reverse=True)
        alternatives = [re.escape(n) for n in self._needles]
        alternatives += [rf"(?<![{_TOKEN}]){re.escape(v)}(?![{_TOKEN}])"
                         for v in sorted(self._short, key=len, reverse=True)]
        self._pattern = re.compile("|".join(alternatives)) if alternatives else None

    def __bool__(self) -> bool:
        return bool(self._needles or self._short)

    def __call__(self, text: str) -> str:
        # one pass over the text: a marker already written is never scanned again, so a short
        # secret that happens to be part of "<redacted>" cannot mangle it
        return self._pattern.sub(REDACTED, text) if self._pattern is not None else text

    def data(self, value: Any) -> Any:
        """Every string inside JSON-like data, redacted (a copy; the input is not changed): a
        string that is a secret (or an encoding of one) is replaced whole, whatever its length."""
        if isinstance(value, str):
            return REDACTED if value in self._values else self(value)
        if isinstance(value, Mapping):
            return {k: self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value

    def __repr__(self) -> str:
        return f"Redactor({len(self._needles) + len(self._short)} {REDACTED} forms)"
