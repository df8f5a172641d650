"""A minimal RFC 8941 structured-field parser and serialiser, for Signature-Input and Signature.

Only what RFC 9421 and RFC 9530 need: dictionaries whose members are items or inner lists,
parameters, and the bare items integer, string, token, byte sequence and boolean. Decimals,
dates and display strings are refused as unsupported rather than half-parsed.

The decision to know: tokens parse to `Token` (a `str` subclass) and strings to plain `str`, so
a parsed inner list serialises back byte for byte. RFC 9421 builds `@signature-params` from that
re-serialisation, so the round trip is what makes signature bases match the signer's.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import NamedTuple


class StructuredFieldError(ValueError):
    """The text is not a valid structured field (of the subset supported here)."""


class Token(str):
    """An sf-token: serialised bare, where an sf-string is serialised quoted."""

    __slots__ = ()


BareItem = int | str | bytes | bool
Params = dict[str, BareItem]


# NamedTuples rather than dataclasses: a verification builds a dozen of these, and tuple
# construction is several times cheaper than a frozen dataclass's __init__.
class Item(NamedTuple):
    value: BareItem
    params: Params


class InnerList(NamedTuple):
    items: tuple[Item, ...]
    params: Params


Member = Item | InnerList

_KEY = re.compile(r"[a-z*][a-z0-9_.*-]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+.^_`|~0-9A-Za-z:/-]*")
_INTEGER = re.compile(r"-?[0-9]{1,15}(?![0-9.])")
_STRING = re.compile(r'"((?:[ !#-\[\]-~]|\\[\\"])*)"')
_ESCAPE = re.compile(r"\\([\\\"])")
_BYTES = re.compile(r":([A-Za-z0-9+/]*={0,2}):")
_OWS = re.compile(r"[ \t]*")
_SP = re.compile(r" *")


def parse_dictionary(text: str) -> dict[str, Member]:
    """Parse an sf-dictionary. Raises StructuredFieldError on anything malformed."""
    out: dict[str, Member] = {}
    end = len(text)
    pos = _SP.match(text, 0).end()
    while pos < end:
        key, pos = _parse_key(text, pos)
        if pos < end and text[pos] == "=":
            out[key], pos = _parse_member(text, pos + 1)
        else:
            params, pos = _parse_params(text, pos)
            out[key] = Item(True, params)
        pos = _OWS.match(text, pos).end()
        if pos >= end:
            return out
        if text[pos] != ",":
            raise StructuredFieldError(f"expected ',' at offset {pos}")
        pos = _OWS.match(text, pos + 1).end()
        if pos >= end:
            raise StructuredFieldError("trailing comma")
    return out


def _parse_member(text: str, pos: int) -> tuple[Member, int]:
    if pos < len(text) and text[pos] == "(":
        return _parse_inner_list(text, pos + 1)
    value, pos = _parse_bare_item(text, pos)
    params, pos = _parse_params(text, pos)
    return Item(value, params), pos


def _parse_inner_list(text: str, pos: int) -> tuple[InnerList, int]:
    items: list[Item] = []
    end = len(text)
    while True:
        pos = _SP.match(text, pos).end()
        if pos >= end:
            raise StructuredFieldError("unterminated inner list")
        if text[pos] == ")":
            params, pos = _parse_params(text, pos + 1)
            return InnerList(tuple(items), params), pos
        value, pos = _parse_bare_item(text, pos)
        params, pos = _parse_params(text, pos)
        items.append(Item(value, params))
        if pos < end and text[pos] not in " )":
            raise StructuredFieldError(f"expected ' ' or ')' at offset {pos}")


def _parse_params(text: str, pos: int) -> tuple[Params, int]:
    params: Params = {}
    end = len(text)
    while pos < end and text[pos] == ";":
        pos = _SP.match(text, pos + 1).end()
        key, pos = _parse_key(text, pos)
        value: BareItem = True
        if pos < end and text[pos] == "=":
            value, pos = _parse_bare_item(text, pos + 1)
        params[key] = value
    return params, pos


def _parse_key(text: str, pos: int) -> tuple[str, int]:
    match = _KEY.match(text, pos)
    if match is None:
        raise StructuredFieldError(f"expected a lowercase key at offset {pos}")
    return match.group(), match.end()


def _parse_bare_item(text: str, pos: int) -> tuple[BareItem, int]:
    if pos >= len(text):
        raise StructuredFieldError("missing value at end of field")
    first = text[pos]
    if first == '"':
        match = _STRING.match(text, pos)
        if match is None:
            raise StructuredFieldError(f"invalid string at offset {pos}")
        raw = match.group(1)
        return (_ESCAPE.sub(r"\1", raw) if "\\" in raw else raw), match.end()
    if first == "-" or first.isdigit():
        match = _INTEGER.match(text, pos)
        if match is None:
            raise StructuredFieldError(f"unsupported or invalid number at offset {pos}")
        return int(match.group()), match.end()
    if first == ":":
        match = _BYTES.match(text, pos)
        if match is None:
            raise StructuredFieldError(f"invalid byte sequence at offset {pos}")
        try:
            return base64.b64decode(match.group(1), validate=True), match.end()
        except binascii.Error as exc:
            raise StructuredFieldError(f"invalid base64 at offset {pos}") from exc
    if first == "?":
        flag = text[pos + 1 : pos + 2]
        if flag not in ("0", "1"):
            raise StructuredFieldError(f"invalid boolean at offset {pos}")
        return flag == "1", pos + 2
    match = _TOKEN.match(text, pos)
    if match is None:
        raise StructuredFieldError(f"unexpected character {first!r} at offset {pos}")
    return Token(match.group()), match.end()


def serialize_bare_item(value: BareItem) -> str:
    # bool before int: bool is an int subclass.
    if value is True:
        return "?1"
    if value is False:
        return "?0"
    if isinstance(value, Token):
        return value
    if isinstance(value, str):
        if not (value.isascii() and value.isprintable()):
            raise StructuredFieldError("strings must be printable ASCII")
        if "\\" in value or '"' in value:
            value = value.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + value + '"'
    if isinstance(value, int):
        if abs(value) > 999_999_999_999_999:
            raise StructuredFieldError("integer out of range")
        return str(value)
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    raise StructuredFieldError(f"cannot serialise {type(value).__name__}")


def serialize_params(params: Params) -> str:
    if not params:
        return ""
    parts = []
    for key, value in params.items():
        parts.append(";" + key if value is True else ";" + key + "=" + serialize_bare_item(value))
    return "".join(parts)


def serialize_item(item: Item) -> str:
    return serialize_bare_item(item.value) + serialize_params(item.params)


def serialize_inner_list(inner: InnerList, items: Sequence[str] | None = None) -> str:
    """`items` may carry the already-serialised items, to avoid serialising them twice."""
    if items is None:
        items = [serialize_item(item) for item in inner.items]
    return "(" + " ".join(items) + ")" + serialize_params(inner.params)


def serialize_dictionary(members: dict[str, Member]) -> str:
    parts = []
    for key, member in members.items():
        if _KEY.fullmatch(key) is None:
            raise StructuredFieldError(f"invalid dictionary key {key!r}")
        if isinstance(member, InnerList):
            parts.append(key + "=" + serialize_inner_list(member))
        elif member.value is True:
            parts.append(key + serialize_params(member.params))
        else:
            parts.append(key + "=" + serialize_item(member))
    return ", ".join(parts)
