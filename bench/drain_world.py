"""The world of the inbox-drain benchmark (bench/inbox_drain.py): M fake peers on loopback, each
with a few actors, and a deterministic plan of N activities they send. Both the sender and the
fake peers' server (bench/drain_peers.py) rebuild the same plan from the same `World`, so a peer
can serve any note Rounds fetches (a reply's parent, a boosted post) exactly as it was sent.

The mix, per activity: Create(Note) about 70% (a third of them replies to an earlier note of any
peer, a fifth mentioning a local user, half with hashtags, a fifth with image attachments given
by reference, their URLs on the author's own peer), Like and Announce of an earlier note of
another actor 10% each, Update of one's own earlier note 6%, Delete of one's own earlier note 4%.
Every URL in it points at a fake peer or at the Rounds instance, both on 127.0.0.1.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from federation.protocol.vocab import AS_CONTEXT, PUBLIC, SECURITY_CONTEXT

CREATE, UPDATE, DELETE, LIKE, ANNOUNCE = "Create", "Update", "Delete", "Like", "Announce"
TAGS = ("sepsis", "handover", "icu", "nursing", "pharmacy", "grandrounds", "qualityimprovement", "triage")
NOTE_CONTEXT = [AS_CONTEXT, {"ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri",
                             "conversation": "ostatus:conversation", "sensitive": "as:sensitive",
                             "toot": "http://joinmastodon.org/ns#", "Hashtag": "as:Hashtag"}]
PARAGRAPH = ("Case review: sepsis bundle compliance rose after the huddle checklist was adopted; the "
             "night team asked for the same card at handover, and pharmacy will audit the doses. ")
# a 1x1 transparent PNG, served at every attachment URL
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


@dataclass(frozen=True)
class Step:
    """One planned activity: its kind, the index of the actor that sends it, and for Update,
    Delete, Like and Announce the index of the Create whose note it is about."""

    kind: str
    actor: int
    target: int | None = None
    reply_to: int | None = None
    mention: int | None = None
    tags: tuple[str, ...] = ()
    attachments: int = 0


@dataclass(frozen=True)
class World:
    rounds_base: str              # http://127.0.0.1:PORT of the Rounds instance
    peer_ports: tuple[int, ...]
    actors_per_peer: int
    local_users: tuple[str, ...]  # usernames on the Rounds instance
    items: int
    seed: int
    start: float                  # epoch seconds; note k is published at start + k seconds
    tag: str = "b"                # distinguishes runs that share a database

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> World:
        data = json.loads(text)
        data["peer_ports"], data["local_users"] = tuple(data["peer_ports"]), tuple(data["local_users"])
        return cls(**data)

    @property
    def actor_count(self) -> int:
        return len(self.peer_ports) * self.actors_per_peer

    def peer_base(self, peer: int) -> str:
        return f"http://127.0.0.1:{self.peer_ports[peer]}"

    def actor_uri(self, index: int) -> str:
        peer, local = divmod(index, self.actors_per_peer)
        return f"{self.peer_base(peer)}/users/a{local}"

    def actor_peer(self, index: int) -> int:
        return index // self.actors_per_peer

    def note_uri(self, plan: list[Step], k: int) -> str:
        return f"{self.actor_uri(plan[k].actor)}/statuses/{self.tag}{k}"

    def activity_uri(self, plan: list[Step], k: int) -> str:
        step = plan[k]
        if step.kind == CREATE:
            return f"{self.note_uri(plan, k)}/activity"
        return f"{self.actor_uri(step.actor)}/activities/{self.tag}{k}-{step.kind.lower()}"

    def local_actor_uri(self, username: str) -> str:
        return f"{self.rounds_base}/users/{username}"


def make_plan(world: World) -> list[Step]:
    """The N activities, the same every time for the same world."""
    rng = random.Random(world.seed)
    plan: list[Step] = []
    live: list[int] = []                    # Creates whose note is not deleted
    own: dict[int, list[int]] = {}          # actor -> its live Creates
    for _ in range(world.items):
        actor = rng.randrange(world.actor_count)
        roll = rng.random()
        mine = own.get(actor, [])
        others = [k for k in live[-200:] if plan[k].actor != actor]
        if roll < 0.06 and mine:
            plan.append(Step(UPDATE, actor, target=rng.choice(mine[-50:])))
            continue
        if roll < 0.10 and mine:
            target = mine.pop(rng.randrange(len(mine)))
            live.remove(target)
            plan.append(Step(DELETE, actor, target=target))
            continue
        if 0.10 <= roll < 0.30 and others:
            plan.append(Step(LIKE if roll < 0.20 else ANNOUNCE, actor, target=rng.choice(others)))
            continue
        reply_to = rng.choice(live[-200:]) if live and rng.random() < 0.33 else None
        mention = rng.randrange(len(world.local_users)) if world.local_users and rng.random() < 0.2 else None
        tags = tuple(rng.sample(TAGS, rng.randint(1, 3))) if rng.random() < 0.5 else ()
        attachments = rng.randint(1, 2) if rng.random() < 0.2 else 0
        k = len(plan)
        plan.append(Step(CREATE, actor, reply_to=reply_to, mention=mention, tags=tags, attachments=attachments))
        live.append(k)
        own.setdefault(actor, []).append(k)
    return plan


def _published(world: World, k: int) -> str:
    """Note k's own whole second (Rounds places remote post ids at their `published` time)."""
    at = datetime.fromtimestamp(world.start, UTC) + timedelta(seconds=k)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def note(world: World, plan: list[Step], k: int, edit: int | None = None) -> dict:
    """The Note of Create k, as its author's peer serves and sends it; with `edit`, as Update
    number `edit` sends it (each edit changes the text, or Rounds would ignore it)."""
    step = plan[k]
    actor = world.actor_uri(step.actor)
    uri = world.note_uri(plan, k)
    to, cc = [PUBLIC], [f"{actor}/followers"]
    tags: list[dict] = [{"type": "Hashtag", "href": f"{world.rounds_base}/tags/{name}", "name": f"#{name}"}
                        for name in step.tags]
    text = f"<p>Note {k}. " + PARAGRAPH * 3
    if step.mention is not None:
        username = world.local_users[step.mention]
        href = world.local_actor_uri(username)
        host = world.rounds_base.removeprefix("http://")
        tags.append({"type": "Mention", "href": href, "name": f"@{username}@{host}"})
        cc.append(href)
        text += f'<span class="h-card"><a href="{href}" class="u-url mention">@{username}</a></span> '
    text += " ".join(f'<a href="{world.rounds_base}/tags/{name}" class="mention hashtag">#{name}</a>'
                     for name in step.tags)
    if edit is not None:
        text += f" (dose corrected in edit {edit})"
    text += "</p>"
    peer = world.peer_base(world.actor_peer(step.actor))
    document = {
        "id": uri, "type": "Note", "summary": None,
        "inReplyTo": world.note_uri(plan, step.reply_to) if step.reply_to is not None else None,
        "published": _published(world, k), "url": uri, "attributedTo": actor, "to": to, "cc": cc,
        "sensitive": False, "atomUri": uri, "conversation": f"tag:bench,2026:objectId={k}:objectType=Conversation",
        "content": text, "contentMap": {"en": text},
        "attachment": [{"type": "Document", "mediaType": "image/png", "url": f"{peer}/media/{world.tag}{k}-{n}.png",
                        "name": f"Figure {n + 1} of note {k}", "width": 1, "height": 1}
                       for n in range(step.attachments)],
        "tag": tags,
    }
    if edit is not None:
        document["updated"] = _published(world, edit)
    return document


def activity(world: World, plan: list[Step], k: int) -> dict:
    """Activity k as its actor's peer sends it."""
    step = plan[k]
    actor = world.actor_uri(step.actor)
    head = {"@context": NOTE_CONTEXT, "id": world.activity_uri(plan, k), "type": step.kind, "actor": actor}
    audience = {"to": [PUBLIC], "cc": [f"{actor}/followers"]}
    if step.kind == CREATE:
        body = note(world, plan, k)
        return {**head, "published": body["published"], "to": body["to"], "cc": body["cc"], "object": body}
    if step.kind == UPDATE:
        return {**head, **audience, "object": note(world, plan, step.target, edit=k)}
    if step.kind == DELETE:
        return {**head, **audience,
                "object": {"id": world.note_uri(plan, step.target), "type": "Tombstone"}}
    if step.kind == LIKE:
        return {**head, "object": world.note_uri(plan, step.target)}
    return {**head, **audience, "published": _published(world, k), "object": world.note_uri(plan, step.target)}


def actor_document(world: World, index: int, public_pem: str) -> dict:
    uri = world.actor_uri(index)
    peer = world.peer_base(world.actor_peer(index))
    return {
        "@context": [AS_CONTEXT, SECURITY_CONTEXT], "id": uri, "type": "Person",
        "preferredUsername": uri.rsplit("/", 1)[1], "name": f"Clinician {index}", "summary": "",
        "inbox": f"{uri}/inbox", "outbox": f"{uri}/outbox", "followers": f"{uri}/followers",
        "following": f"{uri}/following", "url": uri, "manuallyApprovesFollowers": False,
        "endpoints": {"sharedInbox": f"{peer}/inbox"},
        "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": public_pem},
    }
