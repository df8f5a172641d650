"""URL checks on the inbox's hot path: plain URLs take a shortcut, and must come out exactly as
urlsplit would have them; anything unusual still goes through urlsplit."""

from __future__ import annotations

import pytest

from federation.protocol.urls import authority
from federation.protocol.vocab.parse import is_uri


@pytest.mark.parametrize("uri, expected", [
    ("https://Social.Example.org/users/a", "social.example.org"),
    ("https://social.example.org:443/users/a", "social.example.org"),
    ("http://social.example.org:80?x", "social.example.org"),
    ("http://127.0.0.1:080#f", "127.0.0.1"),
    ("https://social.example.org:8443", "social.example.org:8443"),
    ("http://social.example.org:443/", "social.example.org:443"),
    ("HTTPS://Social.Example.org:443/x", "social.example.org"),
    ("https://bob@social.example.org:8443/x", "social.example.org:8443"),
    ("https://[2001:DB8::1]:8443/x", "[2001:db8::1]:8443"),
    ("https://social.exa\tmple.org/x", "social.example.org"),
    ("https://social.example.org:/x", "social.example.org"),
])
def test_authority(uri, expected):
    assert authority(uri) == expected


@pytest.mark.parametrize("uri", ["https://social.example.org:65536/", "https://social.example.org:8x/"])
def test_authority_of_a_bad_port_is_an_error(uri):
    with pytest.raises(ValueError):
        authority(uri)


@pytest.mark.parametrize("value, expected", [
    ("https://social.example.org/users/a", True),
    ("http://social.example.org", True),
    ("HTTPS://social.example.org/x", True),
    (" https://social.example.org/x", True),
    ("https://\tsocial.example.org/x", True),
    ("https://[::1]/x", True),
    ("https:///users/a", False),
    ("https://?q", False),
    ("https://\t/x", False),
    ("ftp://social.example.org/x", False),
    ("social.example.org/users/a", False),
    ("https://social.example.org:8443/x", True),
    ("https://social.example.org:65536/x", False),  # a port out of range
    ("http://127.0.0.1:65535", True),
    ("https://social.example.org:99999/x", False),
    ("https://social.example.org:123456/x", False),
    ("https://social.example.org:/x", True),  # an empty port is the default one
    ("https://social.example.org:8x/x", False),
    ("https://[social.example.org/x", False),  # an unclosed bracket
    ("https://@/x", False),  # userinfo and no host
    (None, False),
])
def test_is_uri(value, expected):
    assert is_uri(value) is expected
