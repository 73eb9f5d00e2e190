"""A bare SIP caller on a UDP socket, for tests that look at the agent's answers themselves (the
SDP address, the status code) rather than at audio: INVITE with an SDP offer, ACK, BYE."""
from __future__ import annotations

import socket
import uuid


class RawCall:
    """One call from ``src`` (default 127.0.0.1) to the agent at ``host:port``."""

    def __init__(self, host: str, port: int, src: str = "127.0.0.1"):
        self.host, self.port = host, port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((src, 0))
        self.sock.settimeout(5)
        self.src, self.src_port = self.sock.getsockname()
        self.call_id = uuid.uuid4().hex
        self.tag = uuid.uuid4().hex[:8]
        self.to_tag = ""
        self.contact = f"sip:agent@{host}:{port}"
        self.cseq = 1

    def _send(self, method: str, uri: str, body: str = "", cseq: int | None = None) -> None:
        to = f"<sip:agent@{self.host}:{self.port}>" + (f";tag={self.to_tag}" if self.to_tag else "")
        head = [f"{method} {uri} SIP/2.0",
                f"Via: SIP/2.0/UDP {self.src}:{self.src_port};branch=z9hG4bK{uuid.uuid4().hex[:12]}",
                "Max-Forwards: 70", f"From: <sip:+18035550111@{self.src}>;tag={self.tag}",
                f"To: {to}", f"Call-ID: {self.call_id}", f"CSeq: {cseq or self.cseq} {method}",
                f"Contact: <sip:caller@{self.src}:{self.src_port}>"]
        if body:
            head.append("Content-Type: application/sdp")
        head.append(f"Content-Length: {len(body.encode())}")
        self.sock.sendto(("\r\n".join(head) + "\r\n\r\n" + body).encode(), (self.host, self.port))

    def final(self, method: str) -> str:
        """The next final response to ``method`` (provisional ones and requests are skipped)."""
        while True:
            data = self.sock.recv(65535).decode()
            if not data.startswith("SIP/2.0 "):
                continue
            if int(data.split(" ", 2)[1]) >= 200 and header(data, "CSeq").endswith(method):
                return data

    def invite(self) -> str:
        """INVITE with a PCMU offer; returns the final response (ACKed when it is a 2xx)."""
        sdp = (f"v=0\r\no=- 1 1 IN IP4 {self.src}\r\ns=-\r\nc=IN IP4 {self.src}\r\nt=0 0\r\n"
               "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        self._send("INVITE", f"sip:agent@{self.host}:{self.port}", sdp)
        reply = self.final("INVITE")
        if reply.startswith("SIP/2.0 2"):
            self.to_tag = header(reply, "To").split(";tag=", 1)[1].split(";")[0]
            self.contact = header(reply, "Contact").strip("<>").split(">")[0]
            self._send("ACK", self.contact)
        return reply

    def bye(self) -> str:
        self.cseq += 1
        self._send("BYE", self.contact)
        return self.final("BYE")

    def close(self) -> None:
        self.sock.close()


def header(message: str, name: str) -> str:
    for line in message.split("\r\n"):
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == name.lower():
            return value.strip()
    return ""


def status(message: str) -> int:
    return int(message.split(" ", 2)[1])


def sdp_address(message: str) -> str:
    """The connection address of the SDP in ``message``."""
    for line in message.split("\r\n"):
        if line.startswith("c=IN "):
            return line.split()[2]
    return ""
