"""NodeInfo 2.0 and 2.1, with the /.well-known/nodeinfo index. Usage counts come from the
database on each request; the name, description and whether registrations are open, from the
instance's run-time profile (server.profile: what an admin set in the console)."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from federation.admin.instance import OPEN
from server.appkeys import DATABASE, URLS
from server.profile import profile
from server.responses import json_response
from server.version import VERSION
from storage import actors as actor_queries
from storage import objects as object_queries
from storage.models import utcnow

SCHEMAS = ("2.0", "2.1")


async def index(request: web.Request) -> web.Response:
    base = request.app[URLS].base
    links = [
        {"rel": f"http://nodeinfo.diaspora.software/ns/schema/{schema}", "href": f"{base}/nodeinfo/{schema}"}
        for schema in SCHEMAS
    ]
    return json_response({"links": links}, headers={"Access-Control-Allow-Origin": "*"})


async def nodeinfo(request: web.Request) -> web.Response:
    schema = request.match_info["schema"]
    shown = await profile(request)
    now = utcnow()
    async with request.app[DATABASE].sessions() as session:
        users = await actor_queries.count_local_users(session)
        month = await actor_queries.count_local_users(session, active_since=now - timedelta(days=30))
        halfyear = await actor_queries.count_local_users(session, active_since=now - timedelta(days=180))
        posts = await object_queries.count_local_posts(session)
    software = {"name": "rounds", "version": VERSION}
    document = {
        "version": schema,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": shown.registrations == OPEN,
        "usage": {
            "users": {"total": users, "activeMonth": month, "activeHalfyear": halfyear},
            "localPosts": posts,
        },
        "metadata": {
            "nodeName": shown.name,
            "nodeDescription": shown.description,
        },
    }
    content_type = (
        f'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/{schema}#"; charset=utf-8'
    )
    return json_response(document, content_type=content_type, headers={"Access-Control-Allow-Origin": "*"})


def setup(app: web.Application) -> None:
    app.router.add_get("/.well-known/nodeinfo", index)
    app.router.add_get("/nodeinfo/{schema:2\\.0|2\\.1}", nodeinfo)
