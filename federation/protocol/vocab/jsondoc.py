"""The one way Rounds turns JSON text from outside into Python values: `load_json`.

Every JSON body it parses comes through here (inbox POSTs, client API requests and WebSocket
messages, documents fetched from peers, and stored inbox items in the worker), so every one has
the same bound on nesting, `[server] max_json_depth` (default `MAX_JSON_DEPTH`). A deeper
document is refused with `JSONRefused`, a ValueError whose message is one line, before anything
recurses over it: the stdlib decoder and everything that walks a document afterwards (parsing,
sanitising, re-encoding) recurse once per level, and an attacker controls the levels.

The decision to know: orjson parses first. It is fast, and it stops at 1,024 levels by itself,
so its result is measured by a walk that costs nothing when the text holds fewer brackets than
the bound (most documents) and a few microseconds otherwise. What only the stdlib decoder takes
(NaN or Infinity, a number beyond a double's range, a lone surrogate escape) goes to it as
before, but only after the brackets outside strings have been counted in the text, without
recursion. (orjson reads an integer beyond 64 bits as a float, as it always did here.)
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

import orjson

MAX_JSON_DEPTH = 32  # the default of [server] max_json_depth

_CONTAINERS = (dict, list)
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JSONRefused(ValueError):
    """The text is not JSON, or nests deeper than allowed. The message is one line that completes
    "the body is ...": "not JSON: ...", "not UTF-8: ..." or "nested more than N levels deep"."""


def load_json(data: bytes | str, max_depth: int) -> Any:
    """The value `data` holds (UTF-8 bytes or text), nested at most `max_depth` arrays and objects
    deep; JSONRefused otherwise."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        return _stdlib_loads(data, max_depth)
    if _brackets(data) > max_depth and _depth(document, max_depth) > max_depth:
        raise _too_deep(max_depth)
    return document


def _brackets(data: bytes | str) -> int:
    """How many arrays and objects open in `data`, counting brackets inside strings too: an upper
    bound on the depth, found at memory speed."""
    if isinstance(data, str):
        return data.count("[") + data.count("{")
    return data.count(b"[") + data.count(b"{")


def _depth(document: Any, limit: int) -> int:
    """The nesting depth of a decoded document, level by level (no recursion); stops counting
    once past `limit`."""
    level = [document] if isinstance(document, _CONTAINERS) else []
    depth = 0
    while level and depth <= limit:
        depth += 1
        level = [
            value for container in level
            for value in (container.values() if type(container) is dict else container)
            if isinstance(value, _CONTAINERS)
        ]
    return depth


def _stdlib_loads(data: bytes | str, max_depth: int) -> Any:
    try:
        text = data if isinstance(data, str) else bytes(data).decode()
    except UnicodeDecodeError as exc:
        raise JSONRefused(f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > max_depth:
        raise _too_deep(max_depth)
    try:
        return json.loads(text)
    except RecursionError:  # only if max_depth is near the interpreter's own limit
        raise _too_deep(max_depth) from None
    except ValueError as exc:
        raise JSONRefused(f"not JSON: {exc}") from None


def _too_deep(max_depth: int) -> JSONRefused:
    return JSONRefused(f"nested more than {max_depth} levels deep")
