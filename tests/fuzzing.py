"""Hypothesis strategies for documents peers might send: a real-world activity (one of the
fixtures in tests/fixtures/shapes/) with a few of its fields replaced by shapes seen in the wild:
a list where a single value belongs, null, a missing key, a number where a string belongs, a
huge string, deep nesting, an object where an id belongs.

No value drawn here is a URL other than the ones a test passes in (the fake peer's and the
instance's, on loopback), so a fuzzed document can never make an instance fetch from elsewhere:
free text never contains ':'.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

SHAPES = Path(__file__).parent / "fixtures" / "shapes"
ACTIVITIES = sorted(p.name for p in SHAPES.glob("*.json") if "_actor" not in p.name and "key_stub" not in p.name
                    and "parent" not in p.name)
ACTORS = sorted(p.name for p in SHAPES.glob("*_actor.json"))
DELETE = object()  # a mutation that removes the key
WRAP = object()    # a mutation that puts the current value in a one-item list

# Fields whose shape peers get wrong; a path is a tuple of keys and list indexes.
PATHS: list[tuple[Any, ...]] = [
    ("type",), ("object",), ("to",), ("cc",), ("published",), ("target",),
    ("object", "type"), ("object", "id"), ("object", "attributedTo"), ("object", "content"),
    ("object", "contentMap"), ("object", "summary"), ("object", "sensitive"), ("object", "inReplyTo"),
    ("object", "url"), ("object", "to"), ("object", "cc"), ("object", "published"), ("object", "updated"),
    ("object", "tag"), ("object", "tag", 0), ("object", "tag", 0, "type"), ("object", "tag", 0, "name"),
    ("object", "tag", 0, "href"), ("object", "attachment"), ("object", "attachment", 0),
    ("object", "attachment", 0, "url"), ("object", "attachment", 0, "type"), ("object", "attachment", 0, "width"),
    ("object", "attachment", 0, "mediaType"), ("object", "name"), ("object", "oneOf"), ("object", "anyOf"),
    ("object", "oneOf", 0, "name"), ("object", "oneOf", 0, "replies"), ("object", "oneOf", 0, "replies", "totalItems"),
    ("object", "endTime"), ("object", "closed"), ("object", "votersCount"), ("object", "object"),
    ("object", "actor"), ("object", "preferredUsername"), ("object", "name"), ("object", "endpoints"),
    ("object", "followers"), ("object", "outbox"), ("object", "manuallyApprovesFollowers"),
]
ACTOR_PATHS: list[tuple[Any, ...]] = [
    ("type",), ("id",), ("preferredUsername",), ("name",), ("summary",), ("inbox",), ("outbox",),
    ("followers",), ("following",), ("featured",), ("endpoints",), ("endpoints", "sharedInbox"), ("url",),
    ("publicKey",), ("publicKey", "id"), ("publicKey", "owner"), ("publicKey", "publicKeyPem"),
    ("published",), ("manuallyApprovesFollowers",), ("discoverable",), ("icon",),
]

_text = st.text(alphabet=st.characters(blacklist_characters=":", blacklist_categories=("Cs",)), max_size=30)


def _nest(depth: int, leaf: Any) -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


def values(urls: list[str]) -> st.SearchStrategy[Any]:
    """A value a peer might put where any field belongs."""
    leaves = st.one_of(
        st.none(), st.booleans(), _text,
        st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(urls), st.sampled_from(["Note", "Question", "Person", "Hashtag", "Mention", "Create",
                                                "as:Public", "#tag", "", "2025-03-05T09:30:00Z", "9999-12-31T23:59:59Z",
                                                "0001-01-01T00:00:00+05:00", "text/html"]),
    )
    return st.one_of(
        leaves,
        st.just(DELETE), st.just(WRAP),
        st.lists(leaves, max_size=3),
        st.dictionaries(st.sampled_from(["id", "type", "href", "name", "en", "x" * 40]), leaves, max_size=3),
        st.sampled_from([300, 150_000]).map(lambda n: "é" * n),  # huge strings
        st.tuples(st.sampled_from([20, 200, 500]), leaves).map(lambda args: _nest(*args)),  # deep nesting
    )


def _apply(document: Any, path: tuple[Any, ...], value: Any) -> None:
    """Set (or delete, or wrap) the value at `path`, if its parents exist."""
    *parents, last = path
    target = document
    for key in parents:
        if isinstance(key, int):
            target = target[key] if isinstance(target, list) and len(target) > key else None
        else:
            target = target.get(key) if isinstance(target, dict) else None
        if target is None:
            return
    if isinstance(last, int):
        if not isinstance(target, list) or len(target) <= last:
            return
    elif not isinstance(target, dict):
        return
    if value is DELETE:
        target.pop(last) if isinstance(target, list) else target.pop(last, None)
    elif value is WRAP:
        current = target[last] if isinstance(target, list) else target.get(last)
        target[last] = [current]
    else:
        target[last] = value  # drawn fresh for this document


def mutated(templates: dict[str, Any], paths: list[tuple[Any, ...]], urls: list[str]) -> st.SearchStrategy:
    """(template name, a copy of the template with 1 to 3 fields replaced)."""
    @st.composite
    def build(draw):
        name = draw(st.sampled_from(sorted(templates)))
        document = copy.deepcopy(templates[name])
        for path, value in draw(st.lists(st.tuples(st.sampled_from(paths), values(urls)), min_size=1, max_size=3)):
            _apply(document, path, value)
        return name, document
    return build()


def load(name: str, replacements: list[tuple[str, str]]) -> Any:
    """A fixture with its placeholders replaced in every string (as tests.test_real_world_shapes does)."""
    def substitute(value: Any) -> Any:
        if isinstance(value, str):
            for old, new in replacements:
                value = value.replace(old, new)
            return value
        if isinstance(value, list):
            return [substitute(item) for item in value]
        if isinstance(value, dict):
            return {key: substitute(item) for key, item in value.items()}
        return value
    return substitute(json.loads((SHAPES / name).read_text()))
