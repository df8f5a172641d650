"""Who may read what, on every GET and HEAD route of the app: the walk.

The walk takes the app's own router, so a route added later is walked too. Each route's path
parameters are filled with real ids from a seeded allowlist instance with public pages off
(tests/read_world.py: a public post, an unlisted one, a poll, a remote post cached here, a user,
a tag, an upload, a notification, a peer), and each URL is read four ways: with no credentials
and with an app-only token, which must get no content at all unless the route is on OPEN below;
and by the reader the route is for (alice's token, an admin's, or carol's signature from an
allowed peer), who must get a 200, so that a stranger's refusal is not just a missing id.

OPEN is this test's own list, from the issue, not server/access.py's table: a route the table
calls open but this list does not name fails here until someone says why anyone may read it.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

from aiohttp import web

from server import access
from tests.api_helpers import token_for
from tests.read_world import MARKER, World, world  # noqa: F401  (provides the `world` fixture)

# What anyone may read, in every mode, and why.
OPEN = {
    "/": "the about page", "/about": "the about page",
    "/static": "the pages' own assets",
    "/healthz": "health, for the load balancer",
    "/.well-known/webfinger": "discovery: peers look accounts up unsigned, as Mastodon does",
    "/.well-known/host-meta": "discovery", "/.well-known/host-meta.json": "discovery",
    "/.well-known/nodeinfo": "discovery", "/nodeinfo/{schema}": "discovery",
    "/.well-known/oauth-authorization-server": "what an app needs to log in",
    "/oauth/authorize": "what an app needs to log in",
    "/auth/sign_in": "the web pages' sign-in form",
    "/auth/second_factor": "the sign-in's code step (it shows a form only to a password's pending sign-in)",
    "/api/v1/instance": "what an app reads before anyone logs in",
    "/api/v2/instance": "what an app reads before anyone logs in",
    "/api/v1/instance/rules": "what an app reads before anyone logs in",
    "/api/v1/instance/extended_description": "what an app reads before anyone logs in",
    "/api/v1/custom_emojis": "what an app reads before anyone logs in",
    "/api/v1/streaming/health": "health",
    "/actor": "the instance actor: its key verifies the instance's own signed fetches",
    "/media/{name}": "a media file, by its unguessable name (a capability, as on Mastodon)",
    "/users/{username}": "the key-only actor form, so peers can verify signatures (checked below)",
    # invitations (issue 14)
    "/auth/invite/{code}": "a newcomer's sign-up form, by an unguessable link staff made (a capability)",
}
APP_READS = {"/api/v1/apps/verify_credentials": "an app-only token reads its own app, and nothing else"}
KEY_ONLY = {"@context", "id", "type", "preferredUsername", "inbox", "publicKey"}
PAGES = {"/@{username}", "/@{username}/{post_id}"}  # 404 to all with public pages off; 200s: test_public_pages.py
SESSION_PAGES = {"/home", "/local", "/federated", "/posts/{id}", "/tags/{tag}", "/settings/sessions",
                 "/settings/preferences",
                 "/accounts/{id}", "/accounts/{id}/followers", "/accounts/{id}/following", "/notifications",
                 "/search",
                 # articles (issue 16)
                 "/articles", "/articles/new", "/articles/{id}", "/articles/{id}/edit", "/articles/{id}/versions",
                 "/articles/{id}/versions/{n}", "/articles/{id}/diff",
                 "/posts/{id}/edit", "/posts/{id}/delete", "/bookmarks", "/favourites", "/live/{timeline}",
                 # account settings
                 "/settings/profile", "/settings/security", "/settings/apps", "/settings/export",
                 "/settings/export/outbox.json", "/settings/export/following_accounts.csv",
                 "/settings/export/followers.csv", "/settings/export/bookmarks.csv",
                 # communities: a page like a hashtag's (public only with public pages at `all`)
                 "/communities", "/communities/{username}"}  # a web session's: the rest go to the sign-in form
# the admin console: a web session's too, and an admin's (a moderator's: tests/test_web_admin.py);
# a session without the role finds nothing there
CONSOLE_PAGES = {"/admin", "/admin/users", "/admin/queues", "/admin/reports", "/admin/audit", "/admin/peers", "/admin/peers/export",
                 "/admin/settings"}
ADMINS = {"/api/v1/instance/peers", "/api/v1/admin/{kind}", "/api/v1/admin/{kind}/{id}",
          "/api/rounds/v1/admin/announcements", "/api/rounds/v1/admin/custom_emojis"}
SIGNED = ("/users/", "/actor/", "/emojis/")  # ActivityPub documents: read by an allowed peer's signed GET


def _ids(world: World) -> list[tuple[str, list[str]]]:
    """{id} by the route it is in: the longest matching prefix wins."""
    ids = world.ids
    own_posts = [ids["public"], ids["unlisted"], ids["poll"]]
    return [
        ("/api/v1/statuses/{id}/source", own_posts),
        ("/api/v1/statuses/{id}/quotes", own_posts),  # the author's own post's quotes
        ("/api/v1/statuses/", [*own_posts, ids["remote"]]),
        ("/api/v1/accounts/", [ids["alice"], ids["carol"]]),
        ("/api/v1/polls/", [ids["poll"]]),
        ("/api/v1/notifications/requests/", [ids["request"]]),
        ("/api/v1/notifications/", [ids["notification"]]),
        ("/api/v2/filters/keywords/", [ids["filter_keyword"]]),
        ("/api/v2/filters/statuses/", [ids["filter_status"]]),
        ("/api/v2/filters/", [ids["filter"]]),
        ("/api/v1/filters/", [ids["filter_keyword"]]),
        ("/api/v1/media/", [ids["media"]]),
        ("/api/v1/lists/", [ids["list"]]),  # alice's
        ("/api/v1/scheduled_statuses/", [ids["scheduled"]]),  # alice's
        ("/api/v1/admin/", [ids["peer"]]),
        ("/posts/{id}/edit", own_posts),  # one's own posts only: another's is refused (test_web_actions.py)
        ("/posts/{id}/delete", own_posts),
        ("/posts/", [*own_posts, ids["remote"]]),
        ("/accounts/", [ids["alice"], ids["carol"]]),
        ("/api/rounds/v1/communities/", [ids["community"]]),  # alice moderates it
        ("/api/rounds/v1/articles/", [ids["article"]]),  # alice's, published, in two versions
        ("/articles/", [ids["article"]]),
    ]


def _candidates(world: World, canonical: str) -> dict[str, list[str]]:
    ids = world.ids
    found = [values for prefix, values in _ids(world) if canonical.startswith(prefix)]
    if canonical == "/users/{username}/context/{post_id}":  # a thread of the community alice moderates
        return {"username": ["wound-care"], "post_id": [ids["thread"]]}
    articles = "/versions" in canonical  # an article's versions: its post, its version 1
    return {
        "id": found[0] if found else [], "n": ["1"],
        "username": ["wound-care"] if canonical.startswith("/communities/") else ["alice"],
        "status_id": [ids["article_post"]] if articles else [ids["public"], ids["unlisted"], ids["poll"]],
        "activity": ["activity"], "post_id": [ids["public"]],
        "collection": ["outbox", "followers", "following", "featured", "tags"], "schema": ["2.0", "2.1"],
        "hashtag": [ids["tag"]], "tag": [ids["tag"]], "name": [ids["media_name"]], "kind": ["domain_allows"],
        "timeline": ["home", "local", "federated"],
        "group_key": [f"ungrouped-{ids['notification']}"],
        "quote_id": [ids["quote"]], "emoji_id": [ids["emoji"]], "list_id": [ids["list"]],
        "code": ["not-an-invitation"],  # invitations (issue 14): a live one's page is tests/test_web_invites.py's
    }


def _paths(world: World, resource: web.AbstractResource) -> list[str]:
    """Every path the walk reads for `resource`, filled with the world's values."""
    info = resource.get_info()
    if "prefix" in info:  # a static directory: one of its files
        return [f"{info['prefix']}/{sorted(p.name for p in info['directory'].iterdir())[0]}"]
    if "path" in info:
        return [info["path"]]
    names = list(info["pattern"].groupindex)
    candidates = _candidates(world, resource.canonical)
    missing = [name for name in names if not candidates.get(name)]
    assert not missing, f"{resource.canonical}: the walk has no values for {missing}; add them in this file"
    paths = [info["formatter"].format(**dict(zip(names, values)))
             for values in itertools.product(*(candidates[name] for name in names))]
    paths = [path for path in paths if info["pattern"].fullmatch(path)]
    assert paths, f"{resource.canonical}: none of the walk's values fit its pattern"
    return paths


def _query(world: World) -> str:
    """One query string that fills every route's required parameters."""
    return f"?acct=alice&q=alice&stream=public&tag=sepsis&resource=acct:alice@{world.instance.urls.authority}"


@dataclass
class Answer:
    status: int
    body: bytes
    streamed: bool


async def _read(http, method: str, url: str, headers: dict[str, str]) -> Answer:
    async with http.request(method, url, headers=headers, allow_redirects=False) as response:
        streamed = response.headers.get("Content-Type", "").startswith("text/event-stream")
        body = b"" if streamed else await response.read()  # a stream: its status says enough
        return Answer(response.status, body, streamed)


def _expected_refusal(canonical: str, reader: str) -> int:
    if canonical.rstrip("/") in PAGES:
        return 404
    if canonical in SESSION_PAGES or canonical in CONSOLE_PAGES:
        return 303
    if canonical.startswith(SIGNED):
        return 401
    return 401 if reader == "anonymous" else 403


async def test_every_get_route_reads_nothing_to_strangers_in_allowlist_mode(world, http):
    # Given an allowlist instance with public pages off, and every GET and HEAD route its app has
    a = world.instance
    app = a.app
    assert access.undeclared(app) == [], "routes with no read access declared in server/access.py ROUTES"
    routes = sorted({(route.method, route.resource) for route in app.router.routes() if route.method in ("GET", "HEAD")},
                    key=lambda pair: (pair[1].canonical, pair[0]))
    problems: list[str] = []
    walked = 0
    for method, resource in routes:
        canonical = resource.canonical
        key = canonical.rstrip("/") or "/"
        for path in _paths(world, resource):
            url = f"{a.base}{path}{_query(world)}"
            walked += 1
            # When a stranger reads it, with no credentials or with an app-only token
            for reader in ("anonymous", "app"):
                answer = await _read(http, method, url, world.readers[reader])
                if MARKER.encode() in answer.body:
                    problems.append(f"{method} {path} gave {reader} posted text")
                if key == "/users/{username}" and answer.status == 200 and method == "GET":
                    if set(json.loads(answer.body)) != KEY_ONLY:
                        problems.append(f"{method} {path} gave {reader} more than the key-only actor")
                    continue
                if key in OPEN or (reader == "app" and key in APP_READS):
                    continue
                # Then it is refused: no content
                if answer.status != _expected_refusal(canonical, reader):
                    problems.append(f"{method} {path}: {reader} got {answer.status}, "
                                    f"not {_expected_refusal(canonical, reader)}")
            # And the reader the route is for gets it (so a stranger's refusal proves something)
            if key in OPEN or key in PAGES:
                continue
            if canonical.startswith(SIGNED):
                headers = world.signed(url, method)
            elif key in SESSION_PAGES or key in CONSOLE_PAGES:
                headers = world.readers["admin_session" if key in CONSOLE_PAGES else "session"]
                for token in ("user", "admin"):
                    if (status := (await _read(http, method, url, world.readers[token])).status) != 303:
                        problems.append(f"{method} {path}: a bearer token opened a page for a web session ({status})")
                if key in CONSOLE_PAGES and (
                        status := (await _read(http, method, url, world.readers["session"])).status) != 404:
                    problems.append(f"{method} {path}: a practitioner who is no admin got {status}")
            else:
                headers = world.readers["admin" if key in ADMINS else "user"]
            answer = await _read(http, method, url, headers)
            if answer.status != 200:
                problems.append(f"{method} {path}: the reader it is for got {answer.status}")
            if key in ADMINS and (status := (await _read(http, method, url, world.readers["user"])).status) != 403:
                problems.append(f"{method} {path}: a user who is not an admin got {status}")
    print(f"walked {walked} URLs of {len(routes)} GET and HEAD routes")
    assert walked > 150
    assert problems == [], "\n".join(problems)


async def test_a_get_route_nobody_declared_reads_nothing_to_anyone(instances, http, caplog):
    # Given a route added to the app without a line in server/access.py's table
    ran = []

    async def leak(request: web.Request) -> web.Response:
        ran.append(request.path)
        return web.json_response({"content": MARKER})

    a = await instances.start(prepare=lambda app: app.router.add_get("/api/v1/leak", leak))
    admin = await token_for(a, "root", "read admin:read", admin=True)
    # When anyone, even an admin, reads it (GET or HEAD)
    for method, headers in (("GET", {}), ("GET", admin), ("HEAD", admin)):
        async with http.request(method, f"{a.base}/api/v1/leak", headers=headers) as response:
            # Then it is refused, its handler never runs, and the log names the route
            assert response.status == 500 and MARKER not in await response.text()
    assert ran == []
    assert "GET /api/v1/leak: its route declares no read access" in caplog.text
