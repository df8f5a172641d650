"""Rounds' own client API for communities of practice, under /api/rounds/v1/ (what Mastodon's API
lacks; a Mastodon app sees a community as an account with `group: true`, joins it by following
it and posts to it by mentioning it).

    GET    communities                                   the directory
    POST   communities                                   create ([communities] creators)
    GET    communities/:id                               one community
    PATCH  communities/:id                               change it (moderators); members' servers are told
    GET    communities/:id/join_requests                 pending joins (moderators)
    POST   communities/:id/join_requests/:account_id/authorize | reject
    GET    communities/:id/moderators
    POST   communities/:id/moderators                    account_id: a local user, or a person elsewhere
    DELETE communities/:id/moderators/:account_id
    POST   communities/:id/members/:account_id/remove | ban
    POST   communities/:id/pins/:status_id               DELETE to unpin
    DELETE communities/:id/statuses/:status_id           a moderator removes a post from the community

`:id` is the community's account id. Handlers parse, make one call into
`federation.communities` in one transaction, and answer the Community entity (or a list of
accounts). An institution-only community is shown to the instance's users only
(`access.may_reach`); to anyone else it does not exist. Communities hosted here are managed
here, and a community on another server that the user moderates (listed in its moderators
collection, FEP-1b12) through the same routes where FEP-1b12 allows it: removing a post,
pinning, banning (`federation.communities.elsewhere`: her action is sent to the community,
which decides and announces it).

The web pages (server/web/communities.py) do what these handlers do through the same functions
here: the entity (`community_entity`), the directory (`directory_entities`), who may create and
the creation (`create_community`), and each moderator's action (`moderate` with an `Act`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from federation.communities import elsewhere, groups, moderation
from federation.communities.groups import CommunityError, NoSuchCommunity
from federation.runtime.context import Federation
from federation.social.access import Reader, may_reach
from federation.social.posts import visible_post
from server.local_only import LOCAL_ONLY
from server.activitypub.actor_documents import ACTOR_DOCUMENTS
from server.api.auth import ApiError
from server.api.common import add_route, api, optional_viewer, viewer
from server.api.entities import render
from server.api.params import bool_param, list_param, params, text_param
from server.appkeys import CLOCK, DATABASE, FEDERATION, SETTINGS, URLS
from server.responses import json_response
from storage.ids import parse_id
from storage import actors as actor_queries
from storage import communities as queries
from storage.accounts_api import account_of
from storage.models import Account, Actor, ActorType, Community, JoinPolicy, PostingPolicy

BASE = "/api/rounds/v1/communities"
Act = Callable[[Federation, AsyncSession, Actor, Actor], Awaitable[None]]  # (fed, session, group, moderator)
Find = Callable[[AsyncSession], Awaitable[tuple[Community, Actor]]]


def _by(me: Actor, via: str = "api") -> str:
    """Who the audit log says made a change: `via` (api, web) and the user's name."""
    return f"{via}:{me.username}"


async def _community(session: AsyncSession, request: web.Request, me: Actor | None) -> tuple[Community, Actor]:
    """The community the route's `{id}` names, if `me` may know of it; ApiError 404 otherwise."""
    actor_id = parse_id(request.match_info["id"])
    actor = await actor_queries.actor_by_id(session, actor_id) if actor_id is not None else None
    community = await queries.community_of(session, actor.id) if actor is not None else None
    if community is None or actor is None or not may_reach(community.local_only, Reader.user if me else Reader.anonymous):
        raise ApiError(404, "Record not found")
    return community, actor


async def _account(session: AsyncSession, raw: str) -> Actor:
    actor = await actor_queries.actor_by_id(session, actor_id) if (actor_id := parse_id(raw)) is not None else None
    if actor is None or actor.deleted_at is not None:
        raise ApiError(404, "Record not found")
    return actor


async def community_entity(request: web.Request, session: AsyncSession, me: Actor | None, community: Community,
                           actor: Actor) -> dict[str, Any]:
    """The Community entity, as `me` (None: anyone) sees it."""
    moderators = await queries.moderators(session, actor.id)
    accounts = await render(request, me, lambda renderer: renderer.accounts([actor, *moderators]), session)
    return {
        "id": str(actor.id), "name": actor.username, "title": actor.display_name, "summary": actor.summary,
        "acct": actor.username, "uri": actor.uri, "url": actor.url, "icon": actor.avatar_url, "account": accounts[0],
        "join_policy": community.join_policy.value, "posting": community.posting.value,
        "institution_only": community.local_only, "rules": list(community.rules or []),
        "moderators": accounts[1:], "members_count": await queries.member_count(session, actor.id),
        "pinned_status_ids": [str(i) for i in await queries.pinned_ids(session, actor.id)],
        "created_at": community.created_at.isoformat().replace("+00:00", "Z"),
        "you_moderate": me is not None and await moderation.may_moderate(session, actor, me),
    }


def _fail(exc: CommunityError) -> ApiError:
    if isinstance(exc, NoSuchCommunity):
        return ApiError(404, "Record not found")
    if isinstance(exc, moderation.NotAModerator):
        return ApiError(403, str(exc))
    return ApiError(422, f"Validation failed: {exc}")


# --- the directory, one community, creating one ---------------------------------------------------

@api
async def directory(request: web.Request) -> web.Response:
    me = await optional_viewer(request, "read:accounts")
    async with request.app[DATABASE].sessions() as session:
        entities = await directory_entities(request, session, me, Reader.user if me else Reader.anonymous)
    return json_response(entities)


async def directory_entities(request: web.Request, session: AsyncSession, me: Actor | None, reader: Reader
                             ) -> list[dict[str, Any]]:
    """The communities hosted here that `reader` may know of (`access.may_reach`), by name."""
    rows = await queries.communities(session, include_local_only=may_reach(True, reader))
    return [await community_entity(request, session, me, community, actor) for community, actor in rows]


@api
async def show(request: web.Request) -> web.Response:
    me = await optional_viewer(request, "read:accounts")
    async with request.app[DATABASE].sessions() as session:
        community, actor = await _community(session, request, me)
        return json_response(await community_entity(request, session, me, community, actor))


def _choice(values: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    raw = text_param(values, name)
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ApiError(422, f"Validation failed: {name} must be one of {', '.join(k.value for k in kind)}") from None


def may_create(request: web.Request, account: Account | None) -> bool:
    """Whether this user may create a community: [communities] creators says staff (admins and
    moderators) or every user."""
    staff = account is not None and (account.is_admin or account.is_moderator)
    return staff or request.app[SETTINGS].communities.creators == "users"


async def create_community(request: web.Request, account: Account | None, me: Actor, values: dict[str, Any], *,
                           via: str) -> dict[str, Any]:
    """Create the community `values` describe (the API's parameter names), `me` its first
    moderator, audited as hers through `via` (api, web); its entity. ApiError 403 for a user who may not, 422 for bad input."""
    if not may_create(request, account):
        raise ApiError(403, "Only the instance's staff may create communities here")
    settings = groups.Settings(
        title=text_param(values, "title"), summary=text_param(values, "summary"),
        join_policy=_choice(values, "join_policy", JoinPolicy, JoinPolicy.open),
        posting=_choice(values, "posting", PostingPolicy, PostingPolicy.members),
        local_only=bool_param(values, "institution_only"),
        rules=tuple(str(rule) for rule in list_param(values, "rules")), icon=text_param(values, "icon"))
    fed = request.app[FEDERATION]
    try:
        async with fed.transaction() as session:
            community, actor = await groups.create(session, request.app[URLS], text_param(values, "name", required=True),
                                                   settings, moderators=[me], by=_by(me, via), now=request.app[CLOCK].now())
            entity = await community_entity(request, session, me, community, actor)
    except CommunityError as exc:
        raise _fail(exc) from None
    request.app[LOCAL_ONLY].forget()
    return entity


@api
async def create(request: web.Request) -> web.Response:
    caller, me = await viewer(request, "write:accounts", "write")
    values = await params(request)
    return json_response(await create_community(request, caller.account, me, values, via="api"))


# --- moderators' actions --------------------------------------------------------------------------

async def moderate(fed: Federation, me: Actor, find: Find, act: Act, then=None) -> Any:
    """In one transaction: the community `find(session)` gives, `me` checked to moderate it,
    `act(fed, session, group, me)`, then `then(session, community, group)`'s answer, if given.
    A refusal is the ApiError the API answers (nothing written)."""
    try:
        async with fed.transaction() as session:
            community, group = await find(session)
            await moderation.check_moderator(session, group, me)
            await act(fed, session, group, me)
            return await then(session, community, group) if then is not None else None
    except CommunityError as exc:
        raise _fail(exc) from None


async def _elsewhere(request: web.Request) -> Actor | None:
    """The community on another server the route's `{id}` names, if it does."""
    actor_id = parse_id(request.match_info["id"])
    if actor_id is None:
        return None
    async with request.app[DATABASE].sessions() as session:
        actor = await actor_queries.actor_by_id(session, actor_id)
    return actor if actor is not None and elsewhere.is_elsewhere(actor) else None


async def _remote_entity(session: AsyncSession, group: Actor) -> dict[str, Any]:
    return {"id": str(group.id), "name": group.username, "title": group.display_name, "uri": group.uri,
            "acct": f"{group.username}@{group.domain}", "remote": True,
            "pinned_status_ids": [str(i) for i in await queries.pinned_ids(session, group.id)], "you_moderate": True}


async def _moderate(request: web.Request, act: Act, act_elsewhere: Act | None = None) -> web.Response:
    """`act` for a moderator of the route's community; the Community entity after it. For a
    community on another server that she moderates (asked of its moderators collection first,
    over the network, before the transaction), `act_elsewhere` sends her action to it."""
    _caller, me = await viewer(request, "write:accounts", "write")
    group = await _elsewhere(request) if act_elsewhere is not None else None
    if group is not None:
        fed = request.app[FEDERATION]
        try:
            await elsewhere.check_moderator(fed, group, me)
            async with fed.transaction() as session:
                await act_elsewhere(fed, session, group, me)
                return json_response(await _remote_entity(session, group))
        except CommunityError as exc:
            raise _fail(exc) from None
    return json_response(await moderate(
        request.app[FEDERATION], me, lambda session: _community(session, request, me), act,
        lambda session, community, group: community_entity(request, session, me, community, group)))


@api
async def join_requests(request: web.Request) -> web.Response:
    _caller, me = await viewer(request, "read:follows", "read")
    async with request.app[DATABASE].sessions() as session:
        _, group = await _community(session, request, me)
        if not await moderation.may_moderate(session, group, me):
            raise ApiError(403, f"only a moderator of {group.username} may do this")
        applicants = [actor for _, actor in await queries.join_requests(session, group.id)]
        return json_response(await render(request, me, lambda renderer: renderer.accounts(applicants), session))


# --- each moderator's action, for the API's routes and the web pages' forms -----------------------

def on_account(account_id: str, act_on) -> Act:
    """An Act on the account `account_id` (as a client sends it): `act_on(fed, session, group, account, me)`."""
    async def act(fed: Federation, session: AsyncSession, group: Actor, me: Actor) -> None:
        await act_on(fed, session, group, await _account(session, account_id), me)
    return act


def answer_join(account_id: str, *, accept: bool) -> Act:
    return on_account(account_id, lambda fed, session, group, who, me:
                      moderation.answer_join(fed, session, group, who, me, accept=accept))


def remove_member(account_id: str, *, ban: bool) -> Act:
    return on_account(account_id, lambda fed, session, group, who, me:
                      moderation.remove_member(fed, session, group, who, me, ban=ban))


async def add_local_moderator(fed: Federation, session: AsyncSession, group: Actor, user: Actor, me: Actor, *,
                              via: str) -> None:
    """Make `user`, a user of this instance or a person on another server (FEP-1b12 allows it; not
    for an institution-only community), a moderator of `group` (audited as `me`'s, made through `via`: api, web)."""
    if (await account_of(session, user.id) is None) if user.local else user.type is not ActorType.Person:
        raise CommunityError("a moderator must be a user of this instance, or a person on another server")
    if not user.local and await queries.is_local_only_actor(session, group.id):
        raise CommunityError("an institution-only community is moderated by the instance's users only")
    await groups.add_moderator(session, group.username, user, by=_by(me, via), now=fed.clock.now())


def add_moderator_act(account_id: str, *, via: str) -> Act:
    return on_account(account_id, lambda fed, session, group, user, me:
                      add_local_moderator(fed, session, group, user, me, via=via))


def remove_moderator_act(account_id: str, *, via: str) -> Act:
    async def remove(fed, session, group, user, me) -> None:
        if not await groups.remove_moderator(session, group.username, user, by=_by(me, via), now=fed.clock.now()):
            raise CommunityError(f"{user.username} does not moderate {group.username}")
    return on_account(account_id, remove)


def pin_status(status_id: str, *, pinned: bool) -> Act:
    async def act(fed: Federation, session: AsyncSession, group: Actor, me: Actor) -> None:
        item = await visible_post(session, status_id, me)
        if item is None:
            raise ApiError(404, "Record not found")
        await moderation.pin(fed, session, group, item, me, pinned=pinned)
    return act


def remove_status_act(status_id: str) -> Act:
    async def act(fed: Federation, session: AsyncSession, group: Actor, me: Actor) -> None:
        item = await visible_post(session, status_id, me)
        if item is None:
            raise ApiError(404, "Record not found")
        await moderation.remove_post(fed, session, group, item, me)
    return act


async def _status(session: AsyncSession, status_id: str, me: Actor):
    item = await visible_post(session, status_id, me)
    if item is None:
        raise ApiError(404, "Record not found")
    return item


def pin_elsewhere(status_id: str, *, pinned: bool) -> Act:
    """Pin (or unpin) a thread of a community on another server she moderates: sent to it."""
    async def act(fed: Federation, session: AsyncSession, group: Actor, me: Actor) -> None:
        await elsewhere.pin(fed, session, group, await _status(session, status_id, me), me, pinned=pinned)
    return act


def remove_status_elsewhere(status_id: str) -> Act:
    async def act(fed: Federation, session: AsyncSession, group: Actor, me: Actor) -> None:
        await elsewhere.remove_post(fed, session, group, await _status(session, status_id, me), me)
    return act


def ban_elsewhere(account_id: str) -> Act:
    return on_account(account_id, lambda fed, session, group, who, me: elsewhere.ban(fed, session, group, who, me))


def _handler(make_act: Callable[[web.Request], Act], make_elsewhere: Callable[[web.Request], Act] | None = None):
    """A moderator's route: the Act `make_act(request)` on the route's community (or
    `make_elsewhere(request)` on a community on another server, where FEP-1b12 allows it)."""
    @api
    async def handler(request: web.Request) -> web.Response:
        return await _moderate(request, make_act(request),
                               make_elsewhere(request) if make_elsewhere is not None else None)
    return handler


@api
async def update(request: web.Request) -> web.Response:
    """A moderator changes the community (all but its name and its reach); its members' servers
    hear of it (an Update of the Group)."""
    values = await params(request)
    rules = list_param(values, "rules")
    changed: list[str] = []

    async def act(fed: Federation, session: AsyncSession, group: Actor, me: Actor) -> None:
        community, actor = await groups.update(
            session, group.username, by=_by(me), now=fed.clock.now(),
            title=text_param(values, "title") if "title" in values else None,
            summary=text_param(values, "summary") if "summary" in values else None,
            join_policy=_choice(values, "join_policy", JoinPolicy, None),
            posting=_choice(values, "posting", PostingPolicy, None),
            rules=tuple(str(rule) for rule in rules) if rules or "rules" in values else None,
            icon=text_param(values, "icon") if "icon" in values else None)
        await groups.tell_members(fed, session, community, actor)
        changed.append(actor.username)
    response = await _moderate(request, act)
    for username in changed:  # served fresh from now on
        request.app[ACTOR_DOCUMENTS].invalidate(username)
    return response


@api
async def add_moderator(request: web.Request) -> web.Response:
    values = await params(request)
    async def act(fed: Federation, session: AsyncSession, group: Actor, me: Actor) -> None:
        await add_moderator_act(text_param(values, "account_id", required=True), via="api")(fed, session, group, me)
    return await _moderate(request, act)


@api
async def remove_moderator(request: web.Request) -> web.Response:
    return await _moderate(request, remove_moderator_act(request.match_info["account_id"], via="api"))


@api
async def moderators(request: web.Request) -> web.Response:
    me = await optional_viewer(request, "read:accounts")
    async with request.app[DATABASE].sessions() as session:
        _, group = await _community(session, request, me)
        mods = await queries.moderators(session, group.id)
        return json_response(await render(request, me, lambda renderer: renderer.accounts(mods), session))


def setup(app: web.Application) -> None:
    """Register this module's routes."""
    one = BASE + r"/{id:\d+}"
    add_route(app, "GET", BASE, directory)
    add_route(app, "POST", BASE, create)
    add_route(app, "GET", one, show)
    add_route(app, "PATCH", one, update)
    add_route(app, "GET", f"{one}/join_requests", join_requests)
    for answer, accept in (("authorize", True), ("reject", False)):
        add_route(app, "POST", one + r"/join_requests/{account_id:\d+}/" + answer, _handler(
            lambda request, accept=accept: answer_join(request.match_info["account_id"], accept=accept)))
    add_route(app, "GET", f"{one}/moderators", moderators)
    add_route(app, "POST", f"{one}/moderators", add_moderator)
    add_route(app, "DELETE", one + r"/moderators/{account_id:\d+}", remove_moderator)
    for action, ban in (("remove", False), ("ban", True)):
        add_route(app, "POST", one + r"/members/{account_id:\d+}/" + action, _handler(
            lambda request, ban=ban: remove_member(request.match_info["account_id"], ban=ban),
            (lambda request: ban_elsewhere(request.match_info["account_id"])) if ban else None))
    for method, pinned in (("POST", True), ("DELETE", False)):
        add_route(app, method, one + r"/pins/{status_id:\d+}", _handler(
            lambda request, pinned=pinned: pin_status(request.match_info["status_id"], pinned=pinned),
            lambda request, pinned=pinned: pin_elsewhere(request.match_info["status_id"], pinned=pinned)))
    add_route(app, "DELETE", one + r"/statuses/{status_id:\d+}", _handler(
        lambda request: remove_status_act(request.match_info["status_id"]),
        lambda request: remove_status_elsewhere(request.match_info["status_id"])))
