"""Admin API for peers, compatible with Mastodon's: /api/v1/admin/domain_allows and
/api/v1/admin/domain_blocks. Changes are audited as the calling admin's and take effect in this
process at once (in others within seconds)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from federation.peers import decisions
from federation.peers.decisions import PeerError
from federation.protocol.vocab import ap_datetime
from server.api.auth import ApiError, authenticate
from server.api.params import params, text_param
from server.appkeys import CLOCK, DATABASE, FEDERATION
from server.responses import json_response
from storage.instance_api import peer_by_id, peers_in_state
from storage.models import Peer, PeerState

KINDS = {"domain_allows": PeerState.allowed, "domain_blocks": PeerState.blocked}


def _entity(peer: Peer, state: PeerState) -> dict[str, Any]:
    created = ap_datetime(peer.changed_at or peer.first_seen_at)
    if state is PeerState.allowed:
        return {"id": str(peer.id), "domain": peer.domain, "created_at": created}
    return {
        "id": str(peer.id), "domain": peer.domain, "digest": "", "created_at": created,
        "severity": "suspend", "reject_media": True, "reject_reports": True,
        "private_comment": None, "public_comment": peer.note or None, "obfuscate": False,
    }


async def _peer(request: web.Request, state: PeerState) -> Peer:
    peer_id = request.match_info["id"]
    if not peer_id.isdigit():
        raise ApiError(404, "Record not found")
    async with request.app[DATABASE].sessions() as session:
        peer = await peer_by_id(session, int(peer_id))
    if peer is None or peer.state is not state:
        raise ApiError(404, "Record not found")
    return peer


async def _handle(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    state = KINDS[kind]
    write = request.method != "GET"
    caller = await authenticate(request, f"admin:{'write' if write else 'read'}:{kind}", admin=True)
    by = f"api:{caller.account.username}"
    now = request.app[CLOCK].now()
    db = request.app[DATABASE]
    if request.method == "GET" and "id" not in request.match_info:
        async with db.sessions() as session:
            rows = await peers_in_state(session, state)
            return json_response([_entity(peer, state) for peer in rows])
    if request.method == "GET":
        return json_response(_entity(await _peer(request, state), state))
    values = await params(request)
    try:
        async with db.sessions.begin() as session:
            if request.method == "DELETE":
                peer = await _peer(request, state)
                await decisions.remove(session, peer.domain, by=by, at=now, reason="via the admin API")
                result: dict[str, Any] = {}
            else:
                domain = (await _peer(request, state)).domain if request.method == "PUT" else text_param(values, "domain", required=True)
                note = values.get("public_comment") if state is PeerState.blocked else None
                severity = text_param(values, "severity", default="suspend")
                if state is PeerState.blocked and severity not in decisions.BLOCK_SEVERITIES:
                    raise ApiError(422, f"Validation failed: severity {severity!r} is not supported (suspend or silence)")
                peer = await decisions.decide(session, domain, state, by=by, at=now, note=note, reason="via the admin API",
                                          purge=False)
                result = _entity(peer, state)
    except PeerError as exc:
        raise ApiError(422, f"Validation failed: {exc}") from exc
    await took_effect(request.app, state)
    return json_response(result)


async def took_effect(app: web.Application, state: PeerState | None) -> None:
    """After a peer decision commits (here, or on the admin pages): this process's policy
    reloads at once, and a peer just allowed is greeted, if it knocked (federation.peers.greeting)."""
    fed = app[FEDERATION]
    await fed.reload_policy()
    if state in (PeerState.allowed, PeerState.limited):
        fed.wake.peers_allowed.set()


async def handler(request: web.Request) -> web.Response:
    try:
        return await _handle(request)
    except ApiError as exc:
        return exc.response()


def setup(app: web.Application) -> None:
    base = "/api/v1/admin/{kind:domain_allows|domain_blocks}"
    app.router.add_route("GET", base, handler)
    app.router.add_route("POST", base, handler)
    app.router.add_route("GET", base + "/{id}", handler)
    app.router.add_route("PUT", base + "/{id}", handler)
    app.router.add_route("DELETE", base + "/{id}", handler)
