"""The client's address for lockouts and the audit trail, behind trusted reverse proxies or not.

``X-Forwarded-For`` is only believed when the request comes from a proxy listed in PORTAL_TRUSTED_PROXIES.
Each proxy appends the address it was connected from, so the list is read from the right: skip the trusted
proxies, and the first address that is not one of them is the client. Anything further left was written by
the client itself and can say anything.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(remote_addr: str | None, forwarded_for: str | None, trusted: Sequence[str]) -> str | None:
    """The right-most address not in ``trusted``, starting at REMOTE_ADDR and going left through the header."""
    networks = _networks(tuple(trusted))
    current = _address(remote_addr or "")
    if current is None:
        return remote_addr or None
    hops = [hop for hop in (forwarded_for or "").split(",") if hop.strip()]
    while any(current in network for network in networks) and hops:
        previous = _address(hops.pop())
        if previous is None:  # garbage left of a trusted proxy: the proxy is the last address we can trust
            break
        current = previous
    return str(current)


def client_ip_address(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the client address of a Django request."""
    from django.conf import settings

    return client_address(
        request.META.get("REMOTE_ADDR"),
        request.META.get("HTTP_X_FORWARDED_FOR"),
        settings.PORTAL_TRUSTED_PROXIES,
    )
