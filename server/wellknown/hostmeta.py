"""host-meta (RFC 6415) in XML and JSON: points older clients at our WebFinger endpoint."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from aiohttp import web

from server.appkeys import URLS
from server.responses import json_response


def _template(request: web.Request) -> str:
    return f"{request.app[URLS].base}/.well-known/webfinger?resource={{uri}}"


async def host_meta(request: web.Request) -> web.Response:
    if "json" in request.headers.get("Accept", ""):
        return await host_meta_json(request)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/jrd+json" template={quoteattr(_template(request))}/>\n'
        "</XRD>\n"
    )
    return web.Response(
        text=xml, content_type="application/xrd+xml",
        headers={"Access-Control-Allow-Origin": "*", "Vary": "Accept"},
    )


async def host_meta_json(request: web.Request) -> web.Response:
    document = {"links": [{"rel": "lrdd", "type": "application/jrd+json", "template": _template(request)}]}
    return json_response(
        document, content_type="application/json; charset=utf-8",
        headers={"Access-Control-Allow-Origin": "*"},
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/.well-known/host-meta", host_meta)
    app.router.add_get("/.well-known/host-meta.json", host_meta_json)
