"""Final answers to the SIP requests PJSIP, as pjsua sets it up, leaves unanswered.

Why: pjsua answers INVITE, CANCEL, OPTIONS, MESSAGE, SUBSCRIBE and requests inside a call, but
REGISTER, PUBLISH, REFER or an unknown method, and BYE/INFO/NOTIFY/UPDATE/PRACK outside any
dialog (no To tag) got no answer at all (measured: the sender retransmits for 32 s), and an
OPTIONS inside a call got 500 ("Unhandled by dialog usages"). A PBX takes silence for a dead
line, so every request now gets a final answer: 405 (with Allow) for methods we know but do not
take, 501 for unknown ones, 481 for dialog requests without a dialog, 200 (with Allow) for OPTIONS
inside a call.

How: pjsua2 has no hook for such requests, so a small PJSIP module (``pjsip_module``) is
registered through ``ctypes`` with the functions the pjsua2 extension exports. Its priority puts
it before the dialog layer; it reads the request's head from the receive buffer and answers
statelessly, or leaves the request to PJSIP. The buffer's layout is checked on every request
against PJSIP's own summary of it (``pjsip_rx_data_get_info``); if a PJSIP build disagrees, the
module stands aside (PJSIP behaves as before) and says so once in the log.
"""
from __future__ import annotations

import ctypes
import logging
import re
from dataclasses import dataclass

import pjsua2

log = logging.getLogger("voice_agent.sip")

# pjsip_rx_data: tp_info (pool, transport, tp_data, pjsip_rx_data_op_key = pj_ioqueue_op_key_t
# of 34 pointers + rdata pointer) is 304 bytes on 64-bit, then pkt_info.timestamp (16): the packet.
PACKET_OFFSET = 304 + 16
MODULE_PRIORITY = 31            # PJSIP_MOD_PRIORITY_UA_PROXY_LAYER (32) - 1: before the dialog layer
PJSIP_H_ALLOW = 4               # pjsip_hdr_e

DIALOG_ONLY = frozenset({"BYE", "INFO", "NOTIFY", "UPDATE", "PRACK"})
NOT_TAKEN = frozenset({"REGISTER", "PUBLISH", "REFER"})     # outside a call
LEFT_TO_PJSIP = frozenset({"INVITE", "ACK", "CANCEL", "OPTIONS", "MESSAGE", "SUBSCRIBE"})
KNOWN = DIALOG_ONLY | NOT_TAKEN | LEFT_TO_PJSIP


@dataclass(frozen=True)
class Answer:
    status: int
    allow: bool = False          # add PJSIP's Allow header


def answer_for(method: str, in_dialog: bool, dialog_exists: bool) -> Answer | None:
    """The stateless answer to a request, or None to leave it to PJSIP. ``in_dialog``: the
    request has a To tag; ``dialog_exists``: a dialog of ours matches it."""
    if method not in KNOWN:
        return Answer(501, allow=True)
    if not in_dialog:
        if method in DIALOG_ONLY:
            return Answer(481)
        if method in NOT_TAKEN:
            return Answer(405, allow=True)
        return None
    if method == "OPTIONS" and dialog_exists:
        return Answer(200, allow=True)
    if method in ("REGISTER", "PUBLISH"):
        return Answer(405, allow=True)
    return None                  # inside a dialog, or 481 from PJSIP's dialog layer


@dataclass(frozen=True)
class RequestHead:
    method: str
    call_id: str
    from_tag: str
    to_tag: str


_HEADER = re.compile(r"^(call-id|i|from|f|to|t)[ \t]*:(.*)$", re.IGNORECASE | re.MULTILINE)
_TAG = re.compile(r";\s*tag\s*=\s*([^;>\s,]+)", re.IGNORECASE)


def parse_head(packet: bytes) -> RequestHead | None:
    """Method, Call-ID and tags of a request's head (what PJSIP already parsed as valid)."""
    head = packet.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace").replace("\r\n", "\n")
    method = head.split(" ", 1)[0]
    fields: dict[str, str] = {}
    for m in _HEADER.finditer(head):
        name = {"i": "call-id", "f": "from", "t": "to"}.get(m.group(1).lower(), m.group(1).lower())
        fields.setdefault(name, m.group(2).strip())
    if not method.isupper() or "call-id" not in fields:
        return None

    def tag(name: str) -> str:
        m = _TAG.search(fields.get(name, "").rsplit(">", 1)[-1])
        return m.group(1) if m else ""
    return RequestHead(method, fields["call-id"], tag("from"), tag("to"))


class _PjStr(ctypes.Structure):
    _fields_ = [("ptr", ctypes.c_char_p), ("slen", ctypes.c_ssize_t)]


class _ListHead(ctypes.Structure):
    """The prev/next pair that starts every PJSIP list node (``PJ_DECL_LIST_MEMBER``)."""

    _fields_ = [("prev", ctypes.c_void_p), ("next", ctypes.c_void_p)]

_RX = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


class _Module(ctypes.Structure):
    _fields_ = [("prev", ctypes.c_void_p), ("next", ctypes.c_void_p), ("name", _PjStr),
                ("id", ctypes.c_int), ("priority", ctypes.c_int),
                ("load", ctypes.c_void_p), ("start", ctypes.c_void_p), ("stop", ctypes.c_void_p),
                ("unload", ctypes.c_void_p), ("on_rx_request", _RX),
                ("on_rx_response", ctypes.c_void_p), ("on_tx_request", ctypes.c_void_p),
                ("on_tx_response", ctypes.c_void_p), ("on_tsx_state", ctypes.c_void_p)]


def _library() -> ctypes.CDLL:
    lib = ctypes.CDLL(pjsua2._pjsua2.__file__)
    v, p, i = ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int
    for name, restype, argtypes in [
            ("pjsua_get_pjsip_endpt", v, []),
            ("pjsip_endpt_register_module", i, [p, p]),
            ("pjsip_endpt_unregister_module", i, [p, p]),
            ("pjsip_endpt_create_pool", v, [p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t]),
            ("pjsip_endpt_release_pool", None, [p, p]),
            ("pjsip_endpt_get_capability", v, [p, i, p]),
            ("pjsip_hdr_clone", v, [p, p]),
            ("pjsip_rx_data_get_info", ctypes.c_char_p, [p]),
            ("pjsip_ua_find_dialog", v, [p, p, p, i]),
            ("pjsip_endpt_respond_stateless", i, [p, p, i, p, p, p])]:
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


class RequestAnswers:
    """The module: ``install()`` in PJSIP's thread once the library runs, ``uninstall()`` before
    it is destroyed. Counts what it answered (``answered``: status -> count)."""

    def __init__(self):
        self.answered: dict[int, int] = {}
        self._lib: ctypes.CDLL | None = None
        self._endpt = None
        self._pool = None
        self._allow: _ListHead | None = None
        self._module: _Module | None = None
        self._name = ctypes.create_string_buffer(b"mod-voice-agent-answers")
        self._callback = _RX(self._on_rx_request)
        self._standing_aside = False

    def install(self) -> bool:
        try:
            lib = _library()
        except (OSError, AttributeError) as exc:
            log.warning("requests outside calls stay unanswered: %s", exc)
            return False
        self._lib, self._endpt = lib, lib.pjsua_get_pjsip_endpt()
        self._pool = lib.pjsip_endpt_create_pool(self._endpt, b"answers", 512, 512)
        allow = lib.pjsip_endpt_get_capability(self._endpt, PJSIP_H_ALLOW, None)
        if allow and self._pool:
            copy = lib.pjsip_hdr_clone(self._pool, allow)
            head = _ListHead()                              # a one-header list: head <-> copy
            node = _ListHead.from_address(copy)
            head.prev = head.next = copy
            node.prev = node.next = ctypes.addressof(head)
            self._allow = head
        module = _Module()
        module.name = _PjStr(ctypes.cast(self._name, ctypes.c_char_p), len(self._name.value))
        module.id, module.priority, module.on_rx_request = -1, MODULE_PRIORITY, self._callback
        if lib.pjsip_endpt_register_module(self._endpt, ctypes.byref(module)) != 0:
            log.warning("requests outside calls stay unanswered: PJSIP refused the module")
            return False
        self._module = module
        return True

    def uninstall(self) -> None:
        if self._module is not None:
            self._lib.pjsip_endpt_unregister_module(self._endpt, ctypes.byref(self._module))
            self._module = None
        if self._pool:
            self._lib.pjsip_endpt_release_pool(self._endpt, self._pool)
            self._pool = None
            self._allow = None

    # -- PJSIP's thread -------------------------------------------------------------------------
    def _on_rx_request(self, rdata: int) -> int:
        try:
            return self._handle(rdata)
        except Exception:  # noqa: BLE001 - nothing may propagate into C
            log.exception("answering a request failed; PJSIP handles it")
            return 0

    def _head(self, rdata: int) -> RequestHead | None:
        info = (self._lib.pjsip_rx_data_get_info(rdata) or b"").decode("ascii", "replace")
        m = re.match(r"Request msg (\S+?)/cseq=", info)
        if m and m.group(1) in LEFT_TO_PJSIP and m.group(1) != "OPTIONS":
            return None                    # INVITE, ACK, CANCEL...: no need to read them
        start = ctypes.string_at(rdata + PACKET_OFFSET, 32)
        if not m or not start.startswith(m.group(1).encode() + b" "):
            if not self._standing_aside:
                self._standing_aside = True
                log.warning("this PJSIP build's receive buffer is not laid out as expected: "
                            "requests PJSIP leaves unanswered stay unanswered")
            return None
        return parse_head(ctypes.string_at(rdata + PACKET_OFFSET))   # PJSIP ends it with NUL

    def _handle(self, rdata: int) -> int:
        if self._standing_aside:
            return 0
        head = self._head(rdata)
        if head is None:
            return 0
        exists = False
        if head.to_tag and head.method == "OPTIONS":
            call_id, local, remote = (_PjStr(s.encode(), len(s.encode()))
                                      for s in (head.call_id, head.to_tag, head.from_tag))
            exists = bool(self._lib.pjsip_ua_find_dialog(ctypes.byref(call_id), ctypes.byref(local),
                                                          ctypes.byref(remote), 0))
        answer = answer_for(head.method, bool(head.to_tag), exists)
        if answer is None:
            return 0
        headers = ctypes.byref(self._allow) if answer.allow and self._allow is not None else None
        self._lib.pjsip_endpt_respond_stateless(self._endpt, rdata, answer.status, None, headers, None)
        self.answered[answer.status] = self.answered.get(answer.status, 0) + 1
        return 1
