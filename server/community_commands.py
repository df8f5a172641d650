"""`rounds community ...`: communities of practice from the shell.

    rounds community create NAME [--title T] [--summary TEXT] [--open|--approval|--invite]
                            [--moderators-only-posting] [--institution-only] [--moderator USER ...]
                            [--rule TEXT ...]
    rounds community list
    rounds community update NAME [same options, and --members-posting, --federated, --clear-rules]
    rounds community moderator add|remove NAME USER

The rules live in `federation.communities.groups` (the JSON API makes the same calls); this
module parses, opens the database, owns the transaction and prints. Every change is audited as
`cli:<login>`.
"""

from __future__ import annotations

import argparse
import getpass

from federation.communities import groups, moderation
from federation.runtime.clock import SystemClock
from federation.runtime.context import open_federation
from federation.protocol.urls import LocalUrls
from server.commands import VERSION, open_database_checked, require_initialised
from server.config import Settings
from storage import communities as community_queries
from storage.models import JoinPolicy, PostingPolicy

CLOCK = SystemClock()


def _by() -> str:
    return f"cli:{getpass.getuser()}"


def _policy_options(parser: argparse.ArgumentParser, *, update: bool) -> None:
    join = parser.add_mutually_exclusive_group()
    join.add_argument("--open", dest="join_policy", action="store_const", const=JoinPolicy.open,
                      help="anyone may join: a join is accepted at once" + ("" if update else " (the default)"))
    join.add_argument("--approval", dest="join_policy", action="store_const", const=JoinPolicy.approval,
                      help="a moderator approves each join")
    join.add_argument("--invite", dest="join_policy", action="store_const", const=JoinPolicy.invite,
                      help="invite-only: a request to join is refused")
    posting = parser.add_mutually_exclusive_group()
    posting.add_argument("--moderators-only-posting", dest="posting", action="store_const",
                         const=PostingPolicy.moderators, help="only moderators post (an announcement channel)")
    reach = parser.add_mutually_exclusive_group()
    reach.add_argument("--institution-only", dest="local_only", action="store_const", const=True,
                       help="the community never leaves this instance: no peer sees it, finds it or joins it"
                       + ("; its members and moderators on other servers are removed (their servers are told)"
                          if update else ""))
    if update:
        posting.add_argument("--members-posting", dest="posting", action="store_const", const=PostingPolicy.members,
                             help="every member posts")
        reach.add_argument("--federated", dest="local_only", action="store_const", const=False,
                           help="members on peer instances may find, join and read it")
    parser.add_argument("--title", metavar="T", help="the name shown (default: NAME)")
    parser.add_argument("--summary", metavar="TEXT", help="what the community is about")
    parser.add_argument("--icon", metavar="URL", help="the URL of its picture" + (" (empty: none)" if update else ""))
    parser.add_argument("--rule", dest="rules", action="append", metavar="TEXT",
                        help="a rule of the community (repeat for several, in order)")


def add_community_commands(sub) -> None:
    """Register `rounds community` and its actions on the top-level subparsers."""
    community = sub.add_parser(
        "community", help="make and change communities of practice",
        description="Communities of practice are Group actors (FEP-1b12): practitioners here and on peer "
        "instances join one by following it, and post to it by mentioning it; it shares each member's post "
        "with every member. Every change is written to the audit log ('rounds audit').",
    )
    actions = community.add_subparsers(dest="community_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="make a community",
                                description="Make a community named NAME (found as @NAME@this-host). Without "
                                "options it is open, every member posts, and it federates.")
    create.add_argument("name", help="1 to 30 lowercase letters, digits, underscores or inner hyphens (wound-care)")
    _policy_options(create, update=False)
    create.add_argument("--moderator", dest="moderators", action="append", metavar="USER", default=[],
                        help="a local user who moderates it (repeat for several)")
    create.set_defaults(run=community_create, join_policy=JoinPolicy.open, posting=PostingPolicy.members,
                        local_only=False)
    actions.add_parser("list", help="list the communities hosted here",
                       description="List the communities hosted here: name, who may join, who may post, "
                       "reach, and moderators.").set_defaults(run=community_list)
    update = actions.add_parser("update", help="change a community",
                                description="Change what is given of a community; what is not given stays.")
    update.add_argument("name", help="the community's name")
    _policy_options(update, update=True)
    update.add_argument("--clear-rules", action="store_true", help="remove every rule")
    update.set_defaults(run=community_update)
    moderator = actions.add_parser("moderator", help="add or remove a moderator",
                                   description="Add or remove a local user as a moderator of a community.")
    moderator_actions = moderator.add_subparsers(dest="moderator_command", metavar="ACTION", required=True)
    for name, helptext in (("add", "make a local user a moderator"),
                           ("remove", "stop a user moderating (a community keeps at least one)")):
        action = moderator_actions.add_parser(name, help=helptext, description=helptext[:1].upper() + helptext[1:] + ".")
        action.add_argument("name", help="the community's name")
        action.add_argument("user", help="the local user's username")
        action.set_defaults(run=community_moderator, add=name == "add")


def _describe(community, actor, moderators) -> str:
    reach = "institution-only" if community.local_only else "federated"
    names = ", ".join(m.username if m.local else f"{m.username}@{m.domain}" for m in moderators) or "-"
    return (f"{actor.username:<30} {community.join_policy.value:<9} {community.posting.value:<11} {reach:<17} "
            f"{names}  ({actor.display_name})")


async def community_create(settings: Settings, args: argparse.Namespace) -> int:
    spec = groups.Settings(title=args.title or "", summary=args.summary or "", join_policy=args.join_policy,
                           posting=args.posting, local_only=args.local_only, rules=tuple(args.rules or ()),
                           icon=args.icon or "")
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions.begin() as session:
            moderators = [await groups.local_user(session, name) for name in args.moderators]
            _, actor = await groups.create(session, LocalUrls(settings.public_url), args.name, spec,
                                           moderators=moderators, by=_by(), now=CLOCK.now())
    print(f"Created community @{actor.username}@{LocalUrls(settings.public_url).authority}: {actor.uri}")
    return 0


async def community_list(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions() as session:
            rows = [(c, a, await community_queries.moderators(session, a.id))
                    for c, a in await community_queries.communities(session, include_local_only=True)]
    if not rows:
        print("No communities yet; make one with 'rounds community create NAME'.")
        return 0
    print(f"{'NAME':<30} {'JOIN':<9} {'POSTING':<11} {'REACH':<17} MODERATORS  (TITLE)")
    for community, actor, moderators in rows:
        print(_describe(community, actor, moderators))
    return 0


async def community_update(settings: Settings, args: argparse.Namespace) -> int:
    """Change a community, and send its new Group document to its members' servers (queued
    here; the server's delivery worker sends it)."""
    rules = () if args.clear_rules else tuple(args.rules) if args.rules else None
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        urls = LocalUrls(settings.public_url)
        async with open_federation(settings.federation, urls, db, CLOCK, user_agent=f"Rounds/{VERSION} (cli)",
                                   max_json_depth=settings.server.max_json_depth) as fed:
            async with fed.transaction() as session:
                ended = (0, 0)
                current, group = await groups.find(session, args.name)
                if args.local_only and not current.local_only:  # told while they still may be
                    ended = await moderation.close_to_peers(fed, session, group, by=_by())
                community, actor = await groups.update(
                    session, args.name, by=_by(), now=CLOCK.now(), title=args.title, summary=args.summary,
                    join_policy=args.join_policy, posting=args.posting, local_only=args.local_only, rules=rules,
                    icon=args.icon)
                told = await groups.tell_members(fed, session, community, actor)
                moderators = await community_queries.moderators(session, actor.id)
                line = _describe(community, actor, moderators)
    print(f"Updated: {line}")
    left, unmade = ended
    if left or unmade:
        print(f"On other servers, {left} membership{'s' if left != 1 else ''} or join request"
              f"{'s' if left != 1 else ''} ended (their servers will hear of it) and {unmade} "
              f"moderator{'s' if unmade != 1 else ''} removed.")
    if told:
        print(f"Its members' servers will hear of it ({told} inbox{'es' if told != 1 else ''}).")
    return 0


async def community_moderator(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions.begin() as session:
            user = await groups.local_user(session, args.user)
            change = groups.add_moderator if args.add else groups.remove_moderator
            changed = await change(session, args.name, user, by=_by(), now=CLOCK.now())
    verb = "now moderates" if args.add else "no longer moderates"
    print(f"{args.user} {verb} {args.name}." if changed else f"Nothing changed: {args.user} already "
          f"{'moderates' if args.add else 'does not moderate'} {args.name}.")
    return 0
