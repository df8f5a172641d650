"""Request parameters the way Mastodon takes them: a JSON body, a form, multipart, or the query.

A form or query field named `name[]` (or `name[][key]`, Rails' array of objects) may repeat; it
becomes a list, as a JSON array would be. A DELETE's body is read as a POST's (Mastodon.py sends
a list's accounts to remove so). A JSON body is decoded by `load_json`, so one nested deeper than
[server] max_json_depth is a 400."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from federation.protocol.vocab.jsondoc import JSONRefused, load_json
from server.api.auth import ApiError
from server.appkeys import SETTINGS

log = logging.getLogger(__name__)


_OBJECT_FIELD = re.compile(r"(.+)\[\]\[(\w+)\]")


def _fields(fields: MultiMapping[Any]) -> dict[str, Any]:
    """Fields as a dict: `name[]` a list; `name[][key]` a list of objects under `name`, read in
    order as Rails reads them (a key met again starts the next object)."""
    values: dict[str, Any] = {}
    for key, value in fields.items():
        if (match := _OBJECT_FIELD.fullmatch(key)) is not None:
            objects = values.setdefault(match[1], [])
            if not isinstance(objects, list):
                continue
            if not objects or match[2] in objects[-1]:
                objects.append({})
            objects[-1][match[2]] = value
        elif key.endswith("[]"):
            values[key] = fields.getall(key)
        else:
            values[key] = fields[key]
    return values


async def params(request: web.Request) -> dict[str, Any]:
    values: dict[str, Any] = _fields(request.query)
    # a JSON body is read on a GET too, as Mastodon does (Mastodon.py sends familiar_followers' ids so)
    writes = request.method in ("POST", "PUT", "PATCH", "DELETE") or request.content_type == "application/json"
    if writes and request.body_exists:  # read once, kept (the form guard reads it first)
        if request.content_type == "application/json":
            try:
                body = load_json(await request.read() or b"{}", request.app[SETTINGS].server.max_json_depth)
            except JSONRefused as exc:
                log.info("%s %s: refused a JSON body: %s", request.method, request.path, exc)
                raise ApiError(400, f"the body is {exc}") from None
            if not isinstance(body, dict):
                raise ApiError(400, "the JSON body must be an object")
            values.update(body)
        else:
            values.update(_fields(await request.post()))
    return values


def text_param(values: dict[str, Any], name: str, *, required: bool = False, default: str = "") -> str:
    value = values.get(name)
    if value is None or value == "":
        if required:
            raise ApiError(422, f"Validation failed: {name} can't be blank")
        return default
    if not isinstance(value, str):
        raise ApiError(422, f"Validation failed: {name} must be text")
    return value


def objects_param(values: dict[str, Any], name: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """`name` as a list of objects (a JSON array of them, or form fields `name[][key]`: `_fields`);
    only `keys` are kept. 422 for anything else."""
    given = values.get(name, [])
    if not isinstance(given, list) or not all(isinstance(item, dict) for item in given):
        raise ApiError(422, f"Validation failed: {name} must be a list of objects")
    return [{key: item[key] for key in keys if key in item} for item in given]


def list_param(values: dict[str, Any], name: str) -> list[Any]:
    """`name` or `name[]`: a list, a single value as a list of one, or an empty list."""
    value = values.get(name, values.get(f"{name}[]"))
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def bool_param(values: Mapping[str, Any], name: str, *, default: bool = False) -> bool:
    """true, 1 or on, as JSON or as text (any case); `default` when absent or empty."""
    value = values.get(name)
    if value is None or value == "":
        return default
    return str(value).lower() in ("true", "1", "on")


def whole_number(values: Mapping[str, Any], name: str, default: int) -> int:
    """`name` as a whole number (ASCII digits, at most nine), `default` when absent or empty;
    400 for anything else ("²" is a digit to str.isdigit, not to int())."""
    value = values.get(name, "")
    if value == "":
        return default
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9):
        raise ApiError(400, f"{name} must be a whole number")
    return int(value)
