"""The admin's peers page: the federation mode; allow, limit, block or forget a peer, with a
reason (a limited peer federates, but its posts stay out of the federated and hashtag timelines);
peers that knocked and wait for a decision; each peer's delivery health; the lists in
Mastodon's CSV format (upload and download); subscriptions to published peer lists.

Every decision is `federation.peers.decisions.decide` (or `remove`), as from the CLI and the
admin API, and takes effect in this process at once (`admin_domains.took_effect`). The form
fields are the admin API's: `domain`, and `public_comment` for the note, which is the reason.
"""

from __future__ import annotations

from aiohttp import web

from federation.peers import decisions
from federation.peers.decisions import PeerError
from federation.peers.subscriptions import refresh_all, subscribe_and_fetch
from federation.social.web_sessions import SignedIn
from server.api.admin_domains import took_effect
from server.appkeys import CLOCK, DATABASE, FEDERATION, SETTINGS
from server.web.admin import by, console, form_values, page
from server.web.sessions import redirect
from storage import peers as peer_queries
from storage.models import PeerState

STATES = {"allowed": PeerState.allowed, "limited": PeerState.limited, "blocked": PeerState.blocked}
# Mastodon's lists: the domain allows; the domain blocks (blocked and limited peers, by severity)
EXPORTS = {"allowed": PeerState.allowed, "blocked": PeerState.blocked}
MAX_UPLOAD = 1_000_000


async def _page(request: web.Request, signed: SignedIn, *, status: int = 200, error: str = "") -> web.Response:
    async with request.app[DATABASE].sessions() as session:
        rows = await decisions.list_peers(session)
        subscriptions = await peer_queries.subscriptions(session)
    pending = [row for row in rows if row.peer.state is PeerState.pending]
    return await page(request, "admin/peers.html", signed, status=status, error=error,
                      mode=request.app[SETTINGS].federation.mode, pending=pending,
                      decided=[row for row in rows if row.peer.state is not PeerState.pending],
                      subscriptions=subscriptions, done=request.query.get("done", ""))


@console(admin=True)
async def peers_page(request: web.Request, signed: SignedIn) -> web.Response:
    return await _page(request, signed)


@console(admin=True)
async def decide(request: web.Request, signed: SignedIn) -> web.Response:
    """Allow, limit or block a peer (`state`: allowed, limited or blocked), or forget the decision
    (`remove`)."""
    values = await form_values(request)
    state = STATES.get(values.get("state", ""))
    note = values.get("public_comment", "")
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            if values.get("state") == "remove":
                await decisions.remove(session, values.get("domain", ""), by=by(signed),
                                       at=request.app[CLOCK].now(), reason=note)
            elif state is None:
                raise PeerError("choose allow, limit or block")
            else:
                await decisions.decide(session, values.get("domain", ""), state, by=by(signed),
                                       at=request.app[CLOCK].now(), note=note, reason=note)
    except PeerError as exc:
        return await _page(request, signed, status=422, error=str(exc))
    await took_effect(request.app, state)
    return redirect("/admin/peers?done=decided")


@console(admin=True)
async def export(request: web.Request, signed: SignedIn) -> web.Response:
    """The allowed peers, or the blocked and limited ones, as a Mastodon CSV file, downloaded."""
    state = EXPORTS.get(request.query.get("state", "blocked"), PeerState.blocked)
    async with request.app[DATABASE].sessions() as session:
        body = await decisions.export_csv(session, state)
    return web.Response(text=body, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="{request.app[SETTINGS].authority.replace(":", "_")}'
                               f'-{state.value}.csv"',
        "Cache-Control": "no-store"})


@console(admin=True)
async def import_list(request: web.Request, signed: SignedIn) -> web.Response:
    """An uploaded CSV file: every line is checked before anything changes."""
    upload = (await request.post()).get("file")
    if not isinstance(upload, web.FileField):
        return await _page(request, signed, status=422, error="choose a CSV file")
    try:
        text = upload.file.read(MAX_UPLOAD + 1)
        if len(text) > MAX_UPLOAD:
            raise PeerError(f"{upload.filename}: larger than {MAX_UPLOAD} bytes")
        entries = decisions.parse_list(text.decode("utf-8"), source=upload.filename or "upload")
        async with request.app[DATABASE].sessions.begin() as session:
            await decisions.import_entries(session, entries, by=by(signed), at=request.app[CLOCK].now(),
                                           reason=f"imported from {upload.filename}")
    except UnicodeDecodeError:
        return await _page(request, signed, status=422, error=f"{upload.filename}: not UTF-8 text")
    except PeerError as exc:
        return await _page(request, signed, status=422, error=str(exc))
    await took_effect(request.app, PeerState.allowed)
    return redirect("/admin/peers?done=imported")


def _fetching(request: web.Request) -> dict[str, bool]:
    federation = request.app[SETTINGS].federation
    return {"allow_http": federation.allow_http, "allow_private": federation.allow_private_addresses}


@console(admin=True)
async def subscribe(request: web.Request, signed: SignedIn) -> web.Response:
    values = await form_values(request)
    try:
        await subscribe_and_fetch(request.app[DATABASE], request.app[FEDERATION].http, values.get("url", ""),
                                  review=values.get("review") == "1", by=by(signed),
                                  at=request.app[CLOCK].now(), **_fetching(request))
    except PeerError as exc:
        return await _page(request, signed, status=422, error=str(exc))
    await took_effect(request.app, PeerState.allowed)
    return redirect("/admin/peers?done=subscribed")


@console(admin=True)
async def refresh(request: web.Request, signed: SignedIn) -> web.Response:
    results = await refresh_all(request.app[DATABASE], request.app[FEDERATION].http, at=request.app[CLOCK].now(),
                                **_fetching(request))
    await took_effect(request.app, PeerState.allowed)
    failed = [result for result in results.values() if isinstance(result, str)]
    if failed:
        return await _page(request, signed, status=502, error="; ".join(failed))
    return redirect("/admin/peers?done=refreshed")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/peers", peers_page)
    app.router.add_post("/admin/peers", decide)
    app.router.add_get("/admin/peers/export", export)
    app.router.add_post("/admin/peers/import", import_list)
    app.router.add_post("/admin/peers/subscriptions", subscribe)
    app.router.add_post("/admin/peers/subscriptions/refresh", refresh)
