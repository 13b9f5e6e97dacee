"""Pen test F13 (first half): behind a trusted reverse proxy the client is the right-most untrusted address."""

from __future__ import annotations

import pytest

from portal.security.clientip import client_address

NGINX = ["127.0.0.1/32", "::1/128"]


@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "trusted", "expected"),
    [
        # No proxy configured: X-Forwarded-For is whatever the client wants, so it is ignored.
        ("203.0.113.5", "198.51.100.1", [], "203.0.113.5"),
        ("127.0.0.1", "198.51.100.1", [], "127.0.0.1"),
        # nginx on the same machine appends the real peer address.
        ("127.0.0.1", "203.0.113.5", NGINX, "203.0.113.5"),
        ("::1", "2001:db8::7", NGINX, "2001:db8::7"),
        # A client that sends its own header cannot choose its address: the right-most untrusted one counts.
        ("127.0.0.1", "198.51.100.1, 203.0.113.5", NGINX, "203.0.113.5"),
        ("127.0.0.1", "garbage, 203.0.113.5", NGINX, "203.0.113.5"),
        # Two trusted hops (a load balancer in 10/8 in front of nginx).
        ("127.0.0.1", "198.51.100.1, 203.0.113.5, 10.0.0.2", [*NGINX, "10.0.0.0/8"], "203.0.113.5"),
        # A request that did not come through the proxy: its header is not believed.
        ("203.0.113.9", "198.51.100.1", NGINX, "203.0.113.9"),
        # Trusted proxy without a header, or with nothing usable in it: the proxy is the client.
        ("127.0.0.1", None, NGINX, "127.0.0.1"),
        ("127.0.0.1", " , not-an-ip", NGINX, "127.0.0.1"),
        ("127.0.0.1", "10.0.0.3", [*NGINX, "10.0.0.0/8"], "10.0.0.3"),  # every hop trusted: the left-most
    ],
)
def test_client_address(remote_addr, forwarded_for, trusted, expected):
    assert client_address(remote_addr, forwarded_for, trusted) == expected
