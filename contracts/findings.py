"""What the contract finds wrong with a request or a response, located and readable.

A `Finding` is either a *violation* (the contract forbids it; a conforming server refuses the
request or never sends the response) or a *warning* (allowed, but probably a client bug: an
unknown body field is ignored by the server, so a client that sends `titel` loses data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Finding", "Location", "Severity", "format_location"]

Severity = Literal["violation", "warning"]
Location = tuple[str | int, ...]


def format_location(loc: Sequence[str | int]) -> str:
    """Render `("body", 3, "src")` as `body[3].src` and `("query", "lang")` as `query.lang`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif text:
            text += f".{part}"
        else:
            text = part
    return text or "request"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong, with where it is, what kind it is and the status a server answers.

    `code` follows FastAPI's error `type` where one exists (`missing`, `string_type`,
    `bool_parsing`, `enum`, `json_invalid`, ...) and names the rest plainly (`unknown_path`,
    `method_not_allowed`, `missing_api_key`, `too_many_items`, `unknown_field`,
    `undocumented_status`, `schema`).
    """

    code: str
    loc: Location
    message: str
    status: int = 422
    input: Any = None
    severity: Severity = "violation"
    # The fix, as a sentence, where the mistake is a known one ("Repeat the key for each
    # value: fields=title&fields=src." for `fields=title,src`); "" when there is none.
    hint: str = ""

    @property
    def location(self) -> str:
        return format_location(self.loc)

    @property
    def is_violation(self) -> bool:
        return self.severity == "violation"

    def as_fastapi_error(self) -> dict[str, Any]:
        """The finding as one item of FastAPI's 422 `detail` list."""
        return {"type": self.code, "loc": list(self.loc), "msg": self.message, "input": self.input}

    def as_dict(self) -> dict[str, Any]:
        shown = {
            "severity": self.severity,
            "code": self.code,
            "location": self.location,
            "message": self.message,
            "status": self.status,
        }
        if self.hint:
            shown["hint"] = self.hint
        return shown

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"
