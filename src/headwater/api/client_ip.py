"""The client's IP address as Headwater records it (tracking's ``context.ip``, the audit
trail's ``ip``), behind trusted proxies.

The connection's peer, unless it is one of ``trusted`` (``HEADWATER_TRUSTED_PROXIES``) and the
request carries ``X-Forwarded-For``: then the right-most hop that is not a trusted proxy (the
left-most when every hop is trusted). A client cannot forge its address by sending the header
itself: only a trusted peer's header is read, from the right.

>>> client_ip({"client": ("10.0.0.2", 5000), "headers": [(b"x-forwarded-for", b"1.2.3.4")]},
...           [ip_network("10.0.0.0/8")])
'1.2.3.4'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

__all__ = ["client_ip", "trusted"]


def trusted(address: str, proxies: Sequence[IPv4Network | IPv6Network]) -> bool:
    """Is ``address`` within one of ``proxies``? (Not an address: no.)"""
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in proxies)


def client_ip(
    scope: Mapping[str, Any],
    proxies: Sequence[IPv4Network | IPv6Network],
    forwarded: bytes | None = None,
) -> str | None:
    """The ASGI request's client address (see the module); ``forwarded`` is the request's
    ``X-Forwarded-For`` when the caller already has its headers (else read from ``scope``)."""
    client = scope.get("client")
    peer: str | None = client[0] if client else None
    if forwarded is None:
        forwarded = next((v for k, v in scope["headers"] if k.lower() == b"x-forwarded-for"), None)
    if peer is None or not forwarded or not proxies or not trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer
