"""Who may call and how many at once: pure decisions, no SIP stack needed.

The phone system (PBX or trunk) is the only legitimate caller of the agent, so INVITEs are answered only
from the addresses in ``settings["sip"]["allowed_peers"]`` (single addresses or CIDR networks); anyone
else gets 403. Beyond ``max_calls`` concurrent calls the answer is 486 Busy Here, which the PBX turns
into a busy tone or its own overflow route. While the process drains before stopping, the answer is
503 Service Unavailable, which a PBX or Kamailio's dispatcher takes as "try another agent".
"""
from __future__ import annotations

import ipaddress
import re
import threading
from dataclasses import dataclass

FORBIDDEN = 403
BUSY_HERE = 486
SERVICE_UNAVAILABLE = 503


class SipSettingsError(ValueError):
    """A SIP setting that cannot be used; the message names it."""


def parse_hostport(text: str, default_port: int = 5060) -> tuple[str, int]:
    """``"127.0.0.1:5070"`` -> ``("127.0.0.1", 5070)``; ``"[::1]:5070"`` and a bare host work too."""
    text = (text or "").strip()
    m = re.fullmatch(r"\[([0-9a-fA-F:.]+)\](?::(\d+))?", text) or re.fullmatch(r"([^:\s]+)(?::(\d+))?", text)
    if not m:
        raise SipSettingsError(f"listen address {text!r} is not HOST:PORT")
    host, port = m.group(1), int(m.group(2) or default_port)
    if not 0 < port < 65536:
        raise SipSettingsError(f"listen port {port} is out of range")
    return host, port


class PeerAllowList:
    """Addresses and networks allowed to send INVITEs."""

    def __init__(self, peers: list[str] | tuple[str, ...]):
        self._networks = []
        for peer in peers:
            try:
                self._networks.append(ipaddress.ip_network(str(peer).strip(), strict=False))
            except ValueError:
                raise SipSettingsError(f"sip.allowed_peers: {peer!r} is not an address or network") from None

    def allows(self, source: str) -> bool:
        """``source`` is the packet's source as PJSIP reports it: ``"1.2.3.4:5060"`` or ``"[::1]:5060"``."""
        host = source.strip()
        if host.startswith("["):
            host = host[1:host.find("]")]
        elif host.count(":") == 1:
            host = host.split(":")[0]
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(addr in net for net in self._networks)


class CallSlots:
    """Counts calls in progress; ``take()`` fails beyond the limit (the caller then answers 486)."""

    def __init__(self, limit: int):
        if not isinstance(limit, int) or limit <= 0:
            raise SipSettingsError("sip.max_calls must be a positive whole number")
        self.limit = limit
        self._active = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self._active >= self.limit:
                return False
            self._active += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self._active = max(0, self._active - 1)

    @property
    def active(self) -> int:
        return self._active


@dataclass(frozen=True)
class Admission:
    """What to do with one INVITE: ``status`` 0 means answer it, else reject with that SIP code."""

    status: int
    reason: str


def admit(allow: PeerAllowList, slots: CallSlots, source: str, draining: bool = False) -> Admission:
    """Decide one INVITE. A slot taken here must be given back when the call ends."""
    if not allow.allows(source):
        return Admission(FORBIDDEN, "peer not allowed")
    if draining:
        return Admission(SERVICE_UNAVAILABLE, "draining")
    if not slots.take():
        return Admission(BUSY_HERE, "all lines busy")
    return Admission(0, "answer")


_URI_USER = re.compile(r"sips?:([^@;>\s]+)@", re.IGNORECASE)
_DISPLAY = re.compile(r'^\s*"?([^"<]*?)"?\s*<')


def caller_id(from_header: str) -> str | None:
    """The caller's number from a From (or P-Asserted-Identity) value, for callbacks only.

    ``'"Kim" <sip:+18035550123@pbx;user=phone>;tag=x'`` -> ``"+18035550123"``. Only dial-able characters
    are kept; anything else (a name, an empty or anonymous user) gives None. It is never proof of identity.
    """
    m = _URI_USER.search(from_header or "")
    if not m:
        return None
    user = m.group(1)
    if user.lower() in ("anonymous", "unknown", "restricted"):
        return None
    number = re.sub(r"[\s().-]", "", user)
    return number if re.fullmatch(r"\+?[0-9*#]{2,20}", number) else None
