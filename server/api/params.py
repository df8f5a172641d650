"""Request parameters the way Mastodon takes them: a JSON body, a form, multipart, or the query."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from server.api.auth import ApiError


async def params(request: web.Request) -> dict[str, Any]:
    values: dict[str, Any] = dict(request.query)
    if request.method in ("POST", "PUT", "PATCH") and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = json.loads(await request.read() or b"{}")
            except ValueError:
                raise ApiError(400, "the body is not valid JSON") from None
            if not isinstance(body, dict):
                raise ApiError(400, "the JSON body must be an object")
            values.update(body)
        else:
            values.update(await request.post())
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
