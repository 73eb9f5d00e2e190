"""The front door: traffic from peers outside the allow-list never reaches PJSIP.

Why: PJSIP builds RTP sockets for every INVITE before the application may reject it, and the
ioqueue frees socket slots only ~500 ms after they close; a burst of a few dozen INVITEs per
second exhausted it and PJSIP aborted the whole process (measured here). So the kernel sorts
datagrams before PJSIP reads them: PJSIP's UDP socket and this door's socket share the port
(SO_REUSEPORT), and a small classic BPF program attached to the group (SO_ATTACH_REUSEPORT_CBPF)
hands datagrams from allowed source addresses to PJSIP and all others to the door. The door
answers requests with a stateless 403 Forbidden, at most ``max_replies_per_s`` a second (beyond
that it drops them: a flood gets no amplification), and ignores everything else.

Linux only, IPv4 only; where the kernel refuses, ``start()`` returns False and PJSIP's own
403 (after its media set-up) is the fallback.
"""
from __future__ import annotations

import ctypes
import ipaddress
import logging
import secrets
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

log = logging.getLogger("voice_agent.sip")

SO_ATTACH_REUSEPORT_CBPF = 51
SKF_NET_OFF = -0x100000            # classic BPF: offsets from the network (IP) header
_LD_W_ABS, _AND_K, _JEQ_K, _RET_K = 0x20, 0x54, 0x15, 0x06
PJSIP_INDEX, DOOR_INDEX = 0, 1     # order the sockets joined the reuseport group


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k & 0xFFFFFFFF)


def steering_program(networks: list[ipaddress.IPv4Network]) -> bytes:
    """cBPF: return PJSIP's index when the IPv4 source is in one of ``networks``, else the door's."""
    body: list[bytes | int] = []
    for net in networks:
        body.append(_insn(_LD_W_ABS, 0, 0, SKF_NET_OFF + 12))     # A = source address
        body.append(_insn(_AND_K, 0, 0, int(net.netmask)))
        body.append(int(net.network_address))                      # jeq, patched below
    code = []
    allow_at = len(body) + 1                                       # after "ret door"
    for i, item in enumerate(body):
        code.append(_insn(_JEQ_K, allow_at - i - 1, 0, item) if isinstance(item, int) else item)
    code.append(_insn(_RET_K, 0, 0, DOOR_INDEX))
    code.append(_insn(_RET_K, 0, 0, PJSIP_INDEX))
    return b"".join(code)


class Request(NamedTuple):
    """What the door reads of a request: its method and the headers a stateless reply copies."""

    method: str
    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        return next((value for n, value in self.headers if n == name), None)


_KEEP = {"via": "Via", "v": "Via", "from": "From", "f": "From", "to": "To", "t": "To",
         "call-id": "Call-ID", "i": "Call-ID", "cseq": "CSeq"}


def parse_request(data: bytes) -> Request | None:
    """A SIP request other than ACK with the headers a reply needs, or None (responses, ACKs and
    junk get no reply)."""
    try:
        head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] != "SIP/2.0" or parts[0] in ("ACK", "SIP/2.0"):
        return None
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() in _KEEP and len(value) < 1024:
            headers.append((_KEEP[name.strip().lower()], value.strip()))
    if not {"Via", "From", "To", "Call-ID", "CSeq"} <= {n for n, _ in headers}:
        return None
    return Request(parts[0][:32], headers)


def forbidden_reply(request: Request) -> bytes:
    """A stateless 403 for ``request``."""
    out = ["SIP/2.0 403 Forbidden"]
    for name, value in request.headers:
        if name == "To" and ";tag=" not in value:
            value += f";tag={secrets.token_hex(4)}"
        out.append(f"{name}: {value}")
    out += ["Content-Length: 0", "", ""]
    return "\r\n".join(out).encode()


class FrontDoor:
    """Takes the datagrams of non-allowed peers off PJSIP's port. ``start()`` after PJSIP bound it."""

    def __init__(self, host: str, port: int, allowed: list[str], *, max_replies_per_s: int = 50,
                 on_reject: Callable[[str, str, str | None], None] | None = None):
        self.host, self.port = host, port
        self.networks = []
        for peer in allowed:
            net = ipaddress.ip_network(str(peer).strip(), strict=False)
            if isinstance(net, ipaddress.IPv4Network):
                self.networks.append(net)
        self.max_replies_per_s = max_replies_per_s
        # (peer "host:port", method, Call-ID) of each request answered 403
        self.on_reject = on_reject or (lambda *refused: None)
        self.received = 0
        self.replied = 0
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        try:
            if not isinstance(ipaddress.ip_address(self.host), ipaddress.IPv4Address):
                return False
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((self.host, self.port))
            program = steering_program(self.networks)
            buf = ctypes.create_string_buffer(program, len(program))
            fprog = struct.pack("HL", len(program) // 8, ctypes.addressof(buf))
            sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog)
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("front door not available (%s): PJSIP answers strangers itself", exc)
            return False
        sock.settimeout(0.2)
        self._sock = sock
        self._thread = threading.Thread(target=self._run, name="sip-door", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(2)
        if self._sock:
            self._sock.close()

    def _run(self) -> None:
        window, sent_in_window = int(time.monotonic()), 0
        while not self._stop.is_set():
            try:
                data, addr = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self.received += 1
            now = int(time.monotonic())
            if now != window:
                window, sent_in_window = now, 0
            if sent_in_window >= self.max_replies_per_s:
                continue
            request = parse_request(data)
            if request is None:
                continue
            try:
                self._sock.sendto(forbidden_reply(request), addr)
            except OSError:
                continue
            sent_in_window += 1
            self.replied += 1
            self.on_reject(f"{addr[0]}:{addr[1]}", request.method, request.header("Call-ID"))
