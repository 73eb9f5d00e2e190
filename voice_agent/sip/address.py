"""Which address the agent puts in its SDP, so the caller's RTP reaches it.

PJSIP fills SDP with the listen address, or, listening on a wildcard (``0.0.0.0``), with the address
of the host's default interface: on a multi-homed host a caller on another network (or on
127.0.0.1) is told to send its audio to an address it may not reach. So:

- ``sip.public_address`` set (NAT, a published address): PJSIP is configured with it (stack.py),
  for SDP, Contact and Via alike;
- listening on a wildcard without it: each call's answer is rewritten to the local address the
  kernel would use to reach the caller's media address (a routing lookup, no packet is sent);
- listening on one address: that address, nothing to do.
"""
from __future__ import annotations

import ipaddress
import re
import socket

WILDCARDS = ("0.0.0.0", "::", "")

_CONNECTION = re.compile(r"^c=IN (IP[46]) (\S+)", re.MULTILINE)
_ORIGIN = re.compile(r"^(o=\S+ \S+ \S+ IN) (IP[46]) (\S+)", re.MULTILINE)


def is_wildcard(host: str) -> bool:
    return host in WILDCARDS


def media_host(sdp: str) -> str | None:
    """The first connection address in an SDP body (session or media level), or None."""
    m = _CONNECTION.search(sdp or "")
    return m.group(2) if m else None


def route_address(peer: str) -> str | None:
    """The local address the kernel picks to reach ``peer`` (an IP), or None when there is no
    route. ``connect`` on a UDP socket only looks up the route: nothing is sent."""
    try:
        ip = ipaddress.ip_address(peer.strip("[]"))
    except ValueError:
        return None
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((str(ip), 9))
            return probe.getsockname()[0]
    except OSError:
        return None


def peer_host(source: str) -> str:
    """``"1.2.3.4:5060"`` / ``"[::1]:5060"`` (PJSIP's source address) -> the host part."""
    if source.startswith("["):
        return source[1:source.find("]")]
    return source.rsplit(":", 1)[0] if source.count(":") == 1 else source


def answer_address(remote_sdp: str, source: str) -> str | None:
    """The address to advertise to this caller: routed towards its media address (its SDP), or
    towards the SIP source when it sent no offer."""
    return route_address(media_host(remote_sdp) or peer_host(source))


def rewrite_sdp(sdp: str, address: str) -> str:
    """``sdp`` with every connection address and the origin address set to ``address``."""
    kind = "IP6" if ":" in address else "IP4"
    sdp = _CONNECTION.sub(f"c=IN {kind} {address}", sdp)
    return _ORIGIN.sub(lambda m: f"{m.group(1)} {kind} {address}", sdp)
