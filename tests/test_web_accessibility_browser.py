"""axe-core on every page: each HTML route of the app, as a stranger (where public pages show it)
and as a signed-in admin, at phone and desktop width, reports no serious or critical violation
(WCAG A and AA: contrast, labels, names, landmarks, ...). Each page's screenshot at each width is
saved to test-artifacts/ for people to look at.

The pages are found in server/access.py's table, so a new page is checked without being listed
here; a new path parameter needs its values below (the test says so)."""

from __future__ import annotations

import pytest

from federation.articles import review, writing
from federation.communities import moderation
from federation.outbox import drafts, relations
from federation.social.access import Reads
from federation.social.compose import Draft
from federation.social.polls import NewPoll
from server.access import ROUTES
from storage.models import JoinPolicy, Visibility
from tests.browser import artifacts_dir, axe_violations, chromium
from tests.community_helpers import make_community
from tests.web_helpers import PASSWORD

WIDTHS = {"phone": (375, 740), "desktop": (1280, 800)}
OPEN_PAGES = ("/", "/about", "/auth/sign_in", "/oauth/authorize")  # open routes that are HTML pages
PUBLIC = frozenset({Reads.profile_page, Reads.post_page, Reads.tag_page})
QUERIES = {"/oauth/authorize": "?response_type=code&client_id=unknown&redirect_uri=urn:ietf:wg:oauth:2.0:oob",
           "/search": "?q=bob"}
REFUSED = {"/oauth/authorize": 400}  # an unknown app: the error page, checked like any other
STREAMS = frozenset({"/live/{timeline}"})  # server-sent events for the pages' script, not pages
OWN = frozenset({"/posts/{id}/edit", "/posts/{id}/delete"})  # pages of the reader's own post only


DOWNLOADS = "/settings/export/"  # signed-in routes that are files to download, not pages


def pages() -> list[tuple[str, Reads]]:
    return sorted((path, reads) for path, reads in ROUTES.items()
                  if (path in OPEN_PAGES or reads.name.endswith("_page")) and path not in STREAMS
                  and not path.startswith(DOWNLOADS))


def _fill(path: str, values: dict[str, str]) -> str:
    if path in OWN:
        path = path.replace("{id}", values["own_post"])
    by_route = {"/accounts/{id}": values["bob_account"], "/posts/{id}": values["post_id"],
                "/articles/{id}": values["article"]}
    if path.startswith("/communities/"):
        path = path.replace("{username}", values["community"])
    for pattern, value in by_route.items():
        prefix = pattern.split("{")[0]
        if path.startswith(prefix) and "{id}" in path:
            path = path.replace("{id}", value, 1)
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"{path}: no value for its parameter; add one in {__name__}"
    return path + QUERIES.get(path.split("?")[0], "")


@pytest.mark.parametrize("width_name", WIDTHS)
async def test_every_page_passes_axe_at_both_widths(instances, width_name):
    # Given an instance with public pages, an admin (alice), bob, and posts with a warning, a poll and a tag
    a = await instances.start(web={"public_pages": "all"})
    _, alice = await a.add_user("alice", admin=True)
    _, bob = await a.add_user("bob")
    post = await drafts.publish(a.fed, bob, Draft(text="Handover checklist #handover", visibility=Visibility.public,
                                                  summary="Protocol"))
    await drafts.publish(a.fed, bob, Draft(text="Which dressing?", poll=NewPoll(("Foam", "Alginate"), 3600,
                                                                                 multiple=False, hide_totals=False)))
    own = await drafts.publish(a.fed, alice, Draft(text="Alice's own note, to edit or delete"))
    # and a community moderated by alice, with a pinned thread, another, a member and a pending join
    _, group = await make_community(a, "wound-care", title="Wound care", summary="Dressings and debridement",
                                    join_policy=JoinPolicy.approval, rules=("No patient data",), moderators=("alice",))
    _, carol = await a.add_user("carol")
    async with a.fed.transaction() as session:
        await relations.follow(a.fed, session, bob, group)
        await relations.follow(a.fed, session, carol, group)
        await moderation.answer_join(a.fed, session, group, bob, alice, accept=True)
    pinned = await drafts.publish(a.fed, alice, Draft(text="@wound-care Reference: the dressing protocol",
                                                      visibility=Visibility.public))
    await drafts.publish(a.fed, bob, Draft(text="@wound-care Which foam for heels?", visibility=Visibility.public))
    async with a.fed.transaction() as session:
        await moderation.pin(a.fed, session, group, pinned, alice, pinned=True)
    async with a.fed.transaction() as session:  # alice's article, in two versions (issue 16)
        article = await writing.write(a.fed, session, alice, writing.ArticleDraft(
            title="Hand hygiene", summary="Five moments", body="## When\n\nBefore touching a patient."))
        await review.submit(a.fed, session, alice, article)
        await writing.revise(a.fed, session, alice, article, writing.ArticleDraft(
            title="Hand hygiene", summary="Five moments", body="## When\n\nBefore and after."), change_note="After too")
    values = {"username": "bob", "post_id": str(post.id), "tag": "handover", "bob_account": str(bob.id),
              "own_post": str(own.id), "community": "wound-care", "article": str(article.id), "n": "1"}
    width, height = WIDTHS[width_name]
    problems: list[str] = []
    shots = artifacts_dir() / "pages"
    shots.mkdir(exist_ok=True)
    async with chromium() as browser:
        stranger = await browser.new_page(viewport={"width": width, "height": height})
        admin = await browser.new_page(viewport={"width": width, "height": height})
        await admin.goto(f"{a.base}/auth/sign_in")
        await admin.fill("#username", "alice")
        await admin.fill("#password", PASSWORD)
        async with admin.expect_navigation():
            await admin.click("button[type=submit]")
        for route, reads in pages():
            path = _fill(route, values)
            readers = [("admin", admin)] + ([("stranger", stranger)] if reads in PUBLIC or route in OPEN_PAGES else [])
            for who, page in readers:
                # When each reader opens it
                response = await page.goto(f"{a.base}{path}")
                # Then the page is there, and axe finds nothing serious in it
                if who == "admin" and response.status != REFUSED.get(route, 200):
                    problems.append(f"{path}: {who} got {response.status}")
                problems += [f"{path} ({who}, {width_name}): {line}" for line in await axe_violations(page)]
                name = route.strip("/").replace("/", "-").replace("{", "").replace("}", "") or "index"
                await page.screenshot(path=shots / f"{name}-{who}-{width_name}.png", full_page=True)
    assert len(pages()) >= 10
    assert problems == [], "\n".join(problems)
