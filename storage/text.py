"""Text from outside made fit for a text column on either database.

PostgreSQL refuses a NUL character in text, and neither driver can encode a lone surrogate (a
JSON `\\ud800` escape decodes to one), so a value carrying either fails its whole statement, and
with it every other row the statement or transaction carries. Error messages and reasons quoted
from peers pass through `storable` before they are written; identifiers that must stay exact are
refused instead (`fits`).
"""

from __future__ import annotations

import html
import re


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


# --- the text that full-text search indexes (storage.search) ---------------------------------

_TAG = re.compile(r"<[^>]*>")
# Latin letters with diacritics and their plain letters. PostgreSQL folds an indexed text with
# translate() over this very map (the search_vector column), and a query with `fold`; SQLite's
# FTS5 tokenizer folds diacritics itself (remove_diacritics 2), so a French word is found with or
# without its accents on both databases.
ACCENTED = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝŸ"
PLAIN = "aaaaaaceeeeiiiinooooouuuuyyAAAAAACEEEEIIIINOOOOOUUUUYY"
_FOLD = str.maketrans(ACCENTED, PLAIN)


def fold(text: str) -> str:
    """`text` with the accents of ACCENTED taken off, as the PostgreSQL index folds it."""
    return text.translate(_FOLD)


def searchable(html_text: str | None) -> str:
    """The words of a post's HTML as search indexes them: no markup, entities decoded. SQLite's
    triggers call it as the SQL function `rounds_search_text` (registered on every writer
    connection, storage.db)."""
    if not html_text:
        return ""
    return html.unescape(_TAG.sub(" ", html_text))
