"""Admin API for peers, compatible with Mastodon's: /api/v1/admin/domain_allows and
/api/v1/admin/domain_blocks. A domain block's `severity` says which: `suspend` blocks the peer,
`silence` limits it (Mastodon's shape for a limit; see federation.peers.decisions). Changes are
audited as the calling admin's and take effect in this process at once (in others within seconds)."""

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

# the states each list holds: a domain block is a block (severity suspend) or a limit (silence)
KINDS = {"domain_allows": (PeerState.allowed,), "domain_blocks": decisions.DOMAIN_BLOCKS}


def _entity(peer: Peer) -> dict[str, Any]:
    created = ap_datetime(peer.changed_at or peer.first_seen_at)
    if peer.state is PeerState.allowed:
        return {"id": str(peer.id), "domain": peer.domain, "created_at": created}
    rejects = peer.state is PeerState.blocked  # a limited peer's media and reports are taken
    return {
        "id": str(peer.id), "domain": peer.domain, "digest": "", "created_at": created,
        "severity": decisions.SEVERITY_OF[peer.state], "reject_media": rejects, "reject_reports": rejects,
        "private_comment": None, "public_comment": peer.note or None, "obfuscate": False,
    }


async def _peer(request: web.Request, states: tuple[PeerState, ...]) -> Peer:
    peer_id = request.match_info["id"]
    if not peer_id.isdigit():
        raise ApiError(404, "Record not found")
    async with request.app[DATABASE].sessions() as session:
        peer = await peer_by_id(session, int(peer_id))
    if peer is None or peer.state not in states:
        raise ApiError(404, "Record not found")
    return peer


def _state(kind: str, values: dict[str, Any], current: Peer | None) -> PeerState:
    """The state a POST or PUT asks for: allowed; or a domain block's severity (by default
    suspend, or the block's own on a PUT)."""
    if kind == "domain_allows":
        return PeerState.allowed
    default = decisions.SEVERITY_OF[current.state] if current is not None else "suspend"
    severity = text_param(values, "severity", default=default)
    if severity not in decisions.SEVERITIES:
        raise ApiError(422, f"Validation failed: severity {severity!r} is not supported (suspend or silence)")
    return decisions.SEVERITIES[severity]


async def _handle(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    states = KINDS[kind]
    write = request.method != "GET"
    caller = await authenticate(request, f"admin:{'write' if write else 'read'}:{kind}", admin=True)
    by = f"api:{caller.account.username}"
    now = request.app[CLOCK].now()
    db = request.app[DATABASE]
    if request.method == "GET" and "id" not in request.match_info:
        async with db.sessions() as session:
            rows = await peers_in_state(session, *states)
            return json_response([_entity(peer) for peer in rows])
    if request.method == "GET":
        return json_response(_entity(await _peer(request, states)))
    values = await params(request)
    current = await _peer(request, states) if request.method in ("PUT", "DELETE") else None
    state: PeerState | None = None
    result: dict[str, Any] = {}
    if request.method != "DELETE":  # the ApiErrors of a bad request, before the transaction
        domain = current.domain if current is not None else text_param(values, "domain", required=True)
        state = _state(kind, values, current)
    try:
        async with db.sessions.begin() as session:
            if state is None and current is not None:
                await decisions.remove(session, current.domain, by=by, at=now, reason="via the admin API")
            elif state is not None:
                note = values.get("public_comment") if kind == "domain_blocks" else None
                result = _entity(await decisions.decide(session, domain, state, by=by, at=now, note=note,
                                                        reason="via the admin API", purge=False))
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
