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


class Redactor:
    """A callable ``text -> text`` that replaces every registered secret value.

    It holds plaintext values, so it never shows them: ``repr`` gives only their count.
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._needles: list[str] = []
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
        new = [f for f in forms if f and f not in self._needles]
        # longest first, so a value inside another one's base64 cannot leave a tail behind
        self._needles = sorted([*self._needles, *new], key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, self._needles)))

    def __bool__(self) -> bool:
        return bool(self._needles)

    def __call__(self, text: str) -> str:
        # one pass over the text: a marker already written is never scanned again, so a short
        # secret that happens to be part of "<redacted>" cannot mangle it
        return self._pattern.sub(REDACTED, text) if self._pattern is not None else text

    def data(self, value: Any) -> Any:
        """Every string inside JSON-like data, redacted (a copy; the input is not changed)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, Mapping):
            return {k: self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value

    def __repr__(self) -> str:
        return f"Redactor({len(self._needles)} {REDACTED} forms)"
