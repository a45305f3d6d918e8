"""SRU diagnostics (info:srw/diagnostic/1/N): the errors an SRU server answers with, in a response
of the protocol, never as an HTTP error."""

from __future__ import annotations

PREFIX = "info:srw/diagnostic/1/"
MESSAGES = {
    1: "General system error",
    4: "Unsupported operation",
    5: "Unsupported version",
    6: "Unsupported parameter value",
    7: "Mandatory parameter not supplied",
    8: "Unsupported parameter",
    10: "Query syntax error",
    12: "Too many characters in query",
    13: "Invalid or unsupported use of parentheses",
    14: "Invalid or unsupported use of quotes",
    15: "Unsupported context set",
    16: "Unsupported index",
    19: "Unsupported relation",
    20: "Unsupported relation modifier",
    22: "Unsupported combination of relation and index",
    23: "Too many characters in term",
    27: "Empty term unsupported",
    28: "Masking character not supported",
    31: "Anchoring character not supported",
    36: "Term in invalid format for index or relation",
    37: "Unsupported boolean operator",
    38: "Too many boolean operators in query",
    46: "Unsupported boolean modifier",
    61: "First record position out of range",
    66: "Unknown schema for retrieval",
    71: "Unsupported record packing",
    80: "Sort not supported",
    84: "Too many sort keys to sort",
    88: "Unsupported path for sort",
    90: "Unsupported direction value",
    110: "Stylesheets not supported",
    120: "Response position out of range",
}


class Diagnostic(Exception):
    """A fatal diagnostic: the request is answered with it and nothing else."""

    def __init__(self, number: int, details: str | None = None, message: str | None = None) -> None:
        self.number = number
        self.details = details
        self.message = message or MESSAGES.get(number, "Unknown error")
        super().__init__(f"{self.message}: {details}" if details else self.message)

    @property
    def uri(self) -> str:
        return f"{PREFIX}{self.number}"
