"""Text from outside made fit for a text column on either database.

PostgreSQL refuses a NUL character in text, and neither driver can encode a lone surrogate (a
JSON `\\ud800` escape decodes to one), so a value carrying either fails its whole statement, and
with it every other row the statement or transaction carries. Error messages and reasons quoted
from peers pass through `storable` before they are written; identifiers that must stay exact are
refused instead (`fits`).
"""

from __future__ import annotations


def storable(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with NUL and lone surrogates written as escapes."""
    if "\x00" in text or not text.isascii():
        text = text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
    return text[:limit]


def fits(value: str, limit: int) -> bool:
    """Whether `value` can be stored exactly in a column of `limit` characters."""
    if len(value) > limit or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
