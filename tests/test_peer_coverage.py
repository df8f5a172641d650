"""Which peers an entry covers: one definition (storage.coverage), the same in Python (the
policy) and in SQL (every read that hides blocked peers), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import literal, select

from federation.peers import decisions
from federation.peers.policy import Policy
from storage.coverage import EntryError, covers, covers_sql, normalise_entry

ENTRIES = [
    "chu.example", "chu.example:8443", "*.chu.example", "*.chu.example:8443", "127.0.0.1", "127.0.0.1:8080",
    "[::1]", "[::1]:8080", "*.example", "b.chu.example",
]
AUTHORITIES = [
    "chu.example", "chu.example:8443", "chu.example:8080", "icu.chu.example", "icu.chu.example:8443",
    "a.b.chu.example:9", "xchu.example", "chu.example.org", "notchu.example", "127.0.0.1", "127.0.0.1:8080",
    "127.0.0.1:80801", "127.0.0.10:8080", "[::1]", "[::1]:8080", "[::10]:8080", "b.chu.example", "example",
]

# the rule, spelled out for a few pairs (True: covered)
RULE = {
    ("chu.example", "chu.example:8443"): True,      # no port in the entry: every port
    ("chu.example:8443", "chu.example"): False,     # a port in the entry: that port only
    ("chu.example:8443", "chu.example:8080"): False,
    ("*.chu.example", "chu.example"): True,         # the domain itself
    ("*.chu.example", "a.b.chu.example:9"): True,   # and everything under it, on any port
    ("*.chu.example", "xchu.example"): False,       # a suffix of labels, not of characters
    ("*.chu.example", "chu.example.org"): False,
    ("*.chu.example:8443", "icu.chu.example"): False,
    ("*.chu.example:8443", "icu.chu.example:8443"): True,
    ("127.0.0.1", "127.0.0.1:8080"): True,
    ("127.0.0.1:8080", "127.0.0.1:80801"): False,
    ("127.0.0.1", "127.0.0.10:8080"): False,
    ("[::1]", "[::1]:8080"): True,
    ("[::1]:8080", "[::10]:8080"): False,
    ("b.chu.example", "icu.chu.example"): False,
}


def test_the_rule():
    for (entry, authority), expected in RULE.items():
        assert covers(entry, authority) is expected, (entry, authority)


async def test_sql_and_python_agree(instances):
    a = await instances.start()
    pairs = [(entry, authority) for entry in ENTRIES for authority in AUTHORITIES]
    async with a.db.sessions() as session:
        answers = (await session.execute(select(*[covers_sql(literal(e), literal(x)) for e, x in pairs]))).one()
    disagreements = [(e, x, bool(sql)) for (e, x), sql in zip(pairs, answers) if bool(sql) is not covers(e, x)]
    assert disagreements == []
    assert sum(map(bool, answers)) > 20  # not vacuous


def test_the_policy_uses_the_rule():
    policy = Policy("allowlist", "self.example", allowed=frozenset({"*.chu.example", "127.0.0.1"}),
                    blocked=frozenset({"bad.chu.example"}))
    for authority in AUTHORITIES:
        expected = authority != "bad.chu.example" and any(covers(e, authority) for e in ("*.chu.example", "127.0.0.1"))
        assert policy.allows(authority) is expected, authority
    assert not policy.allows("bad.chu.example:8443") and policy.allows("self.example")
    assert policy.refusal("bad.chu.example") == "blocked"
    assert policy.refusal("other.example") == "not on the allowlist"


def test_entries_are_normalised():
    assert normalise_entry(" Example.ORG. ") == "example.org"
    assert normalise_entry("*.CHU.example:08443") == "*.chu.example:8443"
    assert normalise_entry("hôpital.example") == "xn--hpital-ixa.example"
    assert normalise_entry("[0:0::1]:8080") == "[::1]:8080"
    assert normalise_entry("127.0.0.1") == "127.0.0.1"


@pytest.mark.parametrize("entry, message", [
    ("*.127.0.0.1", "can never match: a wildcard"),
    ("*.0.1", "can never match"),
    ("*.[::1]", "can never match: a wildcard"),
    ("example.org:443", "can never match: a peer's address never shows the default port 443"),
    ("*.example.org:80", "default port 80"),
    ("::1", "in brackets"),
    ("[::g]", "is not an IPv6 address"),
    ("999.1.1.1", "can never match: 999.1.1.1 is neither a name nor an IPv4 address"),
    ("example.org:0", "from 1 to 65535"),
    ("example.org:99999", "from 1 to 65535"),
    ("example.org:", "port is missing"),
    ("https://x.org", "not"),
    ("x..org", "not a domain"),
    ("*", "not a domain"),
    ("a_b.example", "not a domain"),
    ("", "not a domain"),
])
def test_entries_that_can_never_match_are_refused_with_one_line(entry, message):
    with pytest.raises(EntryError) as refused:
        normalise_entry(entry)
    assert message in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(decisions.PeerError):
        decisions.normalise_domain(entry)
