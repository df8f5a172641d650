"""Security headers: every HTML page carries the one strict page policy (no inline script or
style, no framing), every response says nosniff, and the OAuth consent form may lead to its
app's redirect_uri and nowhere else."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from server.headers import form_source
from tests.test_oauth import OOB, REDIRECT, register

STRICT = {
    "default-src": "'none'", "script-src": "'self'", "style-src": "'self'", "frame-ancestors": "'none'",
    "base-uri": "'none'", "form-action": "'self'",
}


def directives(policy: str) -> dict[str, str]:
    parsed = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        parsed[name] = value
    return parsed


async def fetch(http, url: str, **headers) -> tuple[int, dict, str]:
    async with http.get(url, headers=headers, allow_redirects=False) as response:
        return response.status, dict(response.headers), await response.text()


def assert_strict_page(status_headers_body, *, form_action: str = "'self'") -> None:
    _status, headers, body = status_headers_body
    assert headers["Content-Type"].startswith("text/html")
    policy = directives(headers["Content-Security-Policy"])
    for name, value in (STRICT | {"form-action": form_action}).items():
        assert policy[name] == value, (name, policy)
    assert "unsafe" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    # and the page itself needs nothing the policy forbids: no inline script or style
    scripts = re.findall(r"<script[^>]*>", body)
    assert all(re.fullmatch(r'<script src="/static/[a-z]+\.js" defer>', tag) for tag in scripts), scripts
    assert "<style" not in body and "style=" not in body and "</script>" * len(scripts) == "".join(
        re.findall(r"</script>", body))
    assert not re.search(r"<script[^>]*>[^<]", body), "an inline script"
    assert '<link rel="stylesheet" href="/static/rounds.css">' in body


async def test_every_html_page_carries_the_strict_policy(instances, http):
    # Given an instance with a practitioner and a registered app
    a = await instances.start()
    await a.add_user("alice")
    app = await register(http, a.base, redirect_uris=f"{REDIRECT}\n{OOB}")
    query = {"response_type": "code", "client_id": app["client_id"], "scope": "read"}

    # When a browser asks for the about page, a profile (both URLs), a missing profile and the
    # OAuth sign-in page, Then each carries the page policy
    about = await fetch(http, f"{a.base}/about")
    assert about[0] == 200
    assert_strict_page(about)
    profile = await fetch(http, f"{a.base}/@alice")
    assert profile[0] == 200 and "alice" in profile[2]
    assert_strict_page(profile)
    negotiated = await fetch(http, f"{a.base}/users/alice", Accept="text/html")
    assert negotiated[0] == 200
    assert_strict_page(negotiated)
    missing = await fetch(http, f"{a.base}/@nobody")
    assert missing[0] == 404 and "There is no @nobody" in missing[2]
    assert_strict_page(missing)
    oob_login = await fetch(http, f"{a.base}/oauth/authorize?" + urlencode(query | {"redirect_uri": OOB}))
    assert oob_login[0] == 200
    assert_strict_page(oob_login)
    refused = await fetch(http, f"{a.base}/oauth/authorize?client_id=unknown")
    assert refused[0] == 400
    assert_strict_page(refused)

    # And the sign-in form for a redirecting app may also lead to that app's origin, and only there
    login = await fetch(http, f"{a.base}/oauth/authorize?" + urlencode(query | {"redirect_uri": REDIRECT}))
    assert login[0] == 200
    assert_strict_page(login, form_action="'self' https://app.example")


async def test_every_response_says_nosniff_and_only_html_gets_the_page_policy(instances, http):
    # Given an instance
    a = await instances.start()
    # When a client reads JSON, an unknown path, the stylesheet and a served-media-like miss
    for path, status in (("/api/v1/instance", 200), ("/no/such/path", 404), ("/static/rounds.css", 200),
                         ("/.well-known/nodeinfo", 200)):
        code, headers, _ = await fetch(http, f"{a.base}{path}")
        # Then each says nosniff, and none but HTML pages carries the page policy
        assert code == status, path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert "Content-Security-Policy" not in headers, path
    assert (await fetch(http, f"{a.base}/static/rounds.css"))[1]["Content-Type"].startswith("text/css")


@pytest.mark.parametrize(("uri", "source"), [
    ("https://app.example/callback", "https://app.example"),
    ("http://127.0.0.1:8123/cb?x=1", "http://127.0.0.1:8123"),
    ("http://[::1]:9/cb", "http://[::1]:9"),
    ("HTTPS://App.Example/cb", "https://app.example"),
    ("elk://callback", "elk:"),
    ("com.tapbots.ivory:/oauth", "com.tapbots.ivory:"),
    ("javascript:alert(1)", None),
    ("data:text/html,hi", None),
    ("https://app.example;script-src */", None),
    ("https://a b/", None),
    ("https://app.example:99999/", None),
])
def test_form_sources_are_origins_or_schemes_and_never_code(uri, source):
    assert form_source(uri) == source
