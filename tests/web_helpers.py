"""The web pages as a plain HTTP client sees them: a cookie-keeping session, the form token a
page carries, and signing in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

PASSWORD = "correct horse battery"  # tests.instances.Instance.add_user's default
_TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@asynccontextmanager
async def browser_like() -> AsyncIterator[aiohttp.ClientSession]:
    """A session that keeps cookies for 127.0.0.1 as a browser does (aiohttp's default jar drops
    cookies set by IP addresses) and does not follow redirects unless asked."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


def form_token(html: str) -> str:
    found = _TOKEN_RE.search(html)
    assert found, "the page has no form token"
    return found.group(1)


async def page_token(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as response:
        assert response.status == 200, response.status
        return form_token(await response.text())


async def sign_in(http: aiohttp.ClientSession, base: str, username: str, password: str = PASSWORD
                  ) -> aiohttp.ClientResponse:
    """Open the sign-in form and submit it; the response (not followed)."""
    token = await page_token(http, f"{base}/auth/sign_in")
    async with http.post(f"{base}/auth/sign_in", allow_redirects=False,
                         data={"csrf_token": token, "username": username, "password": password}) as response:
        await response.read()
        return response


def set_cookie_headers(response: aiohttp.ClientResponse, name: str) -> list[str]:
    return [value for value in response.headers.getall("Set-Cookie", []) if value.startswith(f"{name}=")]


async def post_form(http: aiohttp.ClientSession, base: str, page: str, **fields: str | list[str]
                    ) -> aiohttp.ClientResponse:
    """Open `page` (a path), then submit its compose form with its hidden fields and `fields` (a
    list: a field that repeats), as a browser would; the response (not followed)."""
    async with http.get(f"{base}{page}") as response:
        html = await response.text()
    form = html[html.index('<form class="card compose'):]
    form = form[:form.index("</form>")]
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    data = [(name, value) for name, values in {**hidden, **fields}.items()
            for value in (values if isinstance(values, list) else [values])]
    async with http.post(f"{base}/posts", data=data, allow_redirects=False) as response:
        await response.read()
        return response


async def submit(http: aiohttp.ClientSession, base: str, action: str, *, token_from: str = "/about",
                 **fields: str) -> aiohttp.ClientResponse:
    """POST `fields` to `action` (a path) with the form token of the page `token_from`, as a form
    on that page would; the response (not followed)."""
    token = await page_token(http, f"{base}{token_from}")
    async with http.post(f"{base}{action}", data={"csrf_token": token, **fields}, allow_redirects=False) as response:
        await response.read()
        return response
