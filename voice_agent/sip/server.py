"""The phone line: answers allowed INVITEs and runs one worker thread per call.

Each answered call gets a ``CallLine`` and a thread running ``handler(line)`` (the dialogue over the
voice pipeline, see ``voice_agent.sip.session``); the handler shares whatever models it closed over.
Policy comes first: peers outside the allow-list get 403, calls beyond ``max_calls`` get 486.
PJSIP parses and rejects malformed messages itself; a failing handler ends only its own call.
Every refusal becomes a ``refused`` event (``events.RefusalLog``: with the peer, rate-limited);
per-call events carry the call's number, SIP Call-ID and store call id (``line_event``).
A call whose caller sends no RTP for ``rtp_timeout_s`` is hung up (watch.py). ``drain()`` turns
new calls away with 503 and waits for the calls in progress before ``stop()`` hangs up the rest.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from voice_agent.sip.address import answer_address, is_wildcard
from voice_agent.sip.call import CallLine, SipCall
from voice_agent.sip.door import FrontDoor
from voice_agent.sip.events import RefusalLog, line_event
from voice_agent.sip.policy import Admission, CallSlots, PeerAllowList, admit, caller_id
from voice_agent.sip.stack import PJSUA_CALL_LIMIT, SipEndpoint, pj
from voice_agent.sip.watch import RtpWatch

log = logging.getLogger("voice_agent.sip")

CallHandler = Callable[[CallLine], None]


@dataclass
class ServerStats:
    """Counts since start, printed by ``serve`` and read by tests and the benchmark."""

    answered: int = 0
    completed: int = 0
    forbidden: int = 0
    busy: int = 0
    handler_errors: int = 0
    unavailable: int = 0        # 503 while draining
    rtp_timeouts: int = 0


class _Account(pj.Account):
    def __init__(self, server: SipServer):
        super().__init__()
        self.server = server

    def onIncomingCall(self, prm) -> None:  # noqa: N802
        self.server._incoming(self, prm)


class SipServer:
    """``SipServer(host, port, handler, allowed_peers=[...], max_calls=8).start()``."""

    def __init__(self, host: str, port: int, handler: CallHandler, *, allowed_peers, max_calls: int,
                 rate: int = 16000, log_level: int = 1,
                 on_event: Callable[[dict], None] | None = None, public_address: str = "",
                 rtp_timeout_s: float | None = None):
        self.allow = PeerAllowList(list(allowed_peers))
        self.requested_max_calls = max_calls
        self.slots = CallSlots(max_calls)          # validates the setting
        if max_calls > PJSUA_CALL_LIMIT:
            log.warning("sip.max_calls=%d: this PJSIP build handles at most %d calls at once; "
                        "run `serve --workers N` for more lines", max_calls, PJSUA_CALL_LIMIT)
            max_calls = PJSUA_CALL_LIMIT
            self.slots = CallSlots(max_calls)
        self.max_calls = max_calls
        self.handler = handler
        self.rate = rate
        self.stats = ServerStats()
        self.on_event = on_event or (lambda event: None)
        self.refusals = RefusalLog(self.on_event)
        self.endpoint = SipEndpoint(host, port, max_calls=max_calls, clock_rate=rate,
                                    log_level=log_level, on_ready=self._ready,
                                    on_rejected=self._rejected_by_pjsip,
                                    public_address=public_address)
        # Listening on a wildcard with no address to publish: each answer gets the address
        # routed towards its caller (address.py).
        self._advertise = answer_address if is_wildcard(host) and not public_address else None
        self.watch = (RtpWatch(self.endpoint, rtp_timeout_s, lambda: self._calls.values(),
                               self._silent) if rtp_timeout_s else None)
        self.draining = False
        self.door = FrontDoor(host, port, list(allowed_peers), on_reject=self._forbidden_at_door)
        self.door_open = False
        self._account: _Account | None = None
        self._calls: dict[int, SipCall] = {}
        self._numbers = itertools.count(1)
        self._workers: set[threading.Thread] = set()
        self._lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> SipServer:
        self._check_port_free()
        self.endpoint.start()
        self.door_open = self.door.start()
        if self.watch is not None:
            self.watch.start()
        return self

    def drain(self, timeout_s: float, abort: threading.Event | None = None) -> int:
        """Answer new calls 503 and wait up to ``timeout_s`` (or until ``abort`` is set) for the
        calls in progress to end; returns how many are still up (``stop()`` hangs them up)."""
        self.draining = True
        abort = abort or threading.Event()
        deadline = time.monotonic() + timeout_s
        while self.slots.active and not abort.is_set() and time.monotonic() < deadline:
            abort.wait(min(0.2, max(0.0, deadline - time.monotonic())))
        return self.slots.active

    def _check_port_free(self) -> None:
        """PJSIP's socket allows port sharing (for the front door), so a second server on the same
        port would silently split the traffic: a plain bind first makes that an error."""
        import socket
        host = self.endpoint.host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        probe = socket.socket(family, socket.SOCK_DGRAM)
        try:
            probe.bind((host, self.endpoint.port))
        except OSError as exc:
            raise RuntimeError(f"UDP port {self.endpoint.port} is in use ({exc.strerror})") from None
        finally:
            probe.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Hang up every call, let the workers record their outcome, then stop the stack."""
        if self.watch is not None:
            self.watch.stop()
        self.endpoint.register_thread()
        # Only the loop thread may hold pjsua2 call objects (see SipCall), even for a moment.
        lines = self.endpoint.call_soon(lambda: [c.line for c in self._calls.values()]).result(5)
        for line in lines:
            line.hangup(503)
        deadline = time.monotonic() + timeout
        for worker in list(self._workers):
            worker.join(max(0.1, deadline - time.monotonic()))
        self.door.stop()
        self.endpoint.stop(before_destroy=self._drop_pj_objects)
        self.refusals.close()

    def _drop_pj_objects(self) -> None:
        """Runs in the loop thread just before PJSIP is destroyed: every pjsua2 object goes now."""
        for call in list(self._calls.values()):
            call.line.call = None
            call.release()
        self._calls.clear()
        self._account = None

    @property
    def active_calls(self) -> int:
        return self.slots.active

    def _ready(self, endpoint: SipEndpoint) -> None:
        cfg = pj.AccountConfig()
        host = endpoint.host if endpoint.host not in ("0.0.0.0", "::", "") else "localhost"
        cfg.idUri = f"sip:agent@{host}:{endpoint.port}"
        endpoint.bind_media(cfg)
        self._account = _Account(self)
        self._account.create(cfg, True)

    # -- incoming calls (sip-loop thread) -------------------------------------------------------
    def _incoming(self, account: _Account, prm) -> None:
        source = prm.rdata.srcAddress
        decision: Admission = admit(self.allow, self.slots, source, self.draining)
        if decision.status:
            self._reject(account, prm.callId, decision, source)
            return
        number = next(self._numbers)
        line = CallLine(self.endpoint, number, source, None, self.rate)
        call = SipCall(account, prm.callId, line, self._ended, self._advertise)
        self._calls[number] = call
        try:
            info = call.getInfo()
            line.caller_id = caller_id(info.remoteUri)
            line.sip_call_id = info.callIdString
            op = pj.CallOpParam()
            op.statusCode = 200
            call.answer(op)
        except pj.Error as exc:
            log.error("call %d from %s could not be answered: %s", number, source,
                      getattr(exc, "reason", exc))
            self._calls.pop(number, None)
            line.call = None
            self.slots.give_back()
            return
        self.stats.answered += 1
        self.on_event(line_event(line, "answered", peer=source))
        worker = threading.Thread(target=self._work, args=(line,), name=f"sip-call-{number}",
                                  daemon=True)
        with self._lock:
            self._workers.add(worker)
        worker.start()

    def _reject(self, account: _Account, call_id: int, decision: Admission, source: str) -> None:
        if decision.status == 403:
            self.stats.forbidden += 1
        elif decision.status == 503:
            self.stats.unavailable += 1
        else:
            self.stats.busy += 1
        call = pj.Call(account, call_id)
        sip_call_id = None
        try:
            sip_call_id = call.getInfo().callIdString
            op = pj.CallOpParam()
            op.statusCode = decision.status
            call.hangup(op)
        except pj.Error:
            pass
        # Deleted here, at once: a pjsua2 Call outliving its call would later clear (and hang up)
        # whichever new call PJSIP gives the same id.
        del call
        self.refusals.refused(decision.status, decision.reason, source, method="INVITE",
                              sip_call_id=sip_call_id)

    def _silent(self, line: CallLine, silent_s: float) -> None:
        """The RTP watch hung up a call whose caller went silent on the network (loop thread)."""
        self.stats.rtp_timeouts += 1
        self.on_event(line_event(line, "rtp_timeout", silent_s=round(silent_s, 1)))

    def _forbidden_at_door(self, peer: str, method: str, sip_call_id: str | None) -> None:
        self.stats.forbidden += 1
        self.refusals.refused(403, "peer not allowed", peer, method=method, sip_call_id=sip_call_id)

    def _rejected_by_pjsip(self, status: int, reason: str, peer: str | None,
                           sip_call_id: str | None) -> None:
        if status == 486:
            self.stats.busy += 1
        self.refusals.refused(status, reason or "by the SIP stack", peer or "", method="INVITE",
                              sip_call_id=sip_call_id)

    def _ended(self, call: SipCall) -> None:
        """DISCONNECTED (sip-loop thread): drop the call object now (see SipCall)."""
        self._calls.pop(call.line.number, None)
        self.on_event(line_event(call.line, "hung_up", by=call.line.hung_up_by))

    # -- the call's worker thread ---------------------------------------------------------------
    def _work(self, line: CallLine) -> None:
        self.endpoint.register_thread()
        try:
            line.media_ready.wait(10)
            self.handler(line)
        except Exception:  # noqa: BLE001 - one call's failure must not touch the others
            self.stats.handler_errors += 1
            log.exception("call %d: the dialogue failed", line.number)
        finally:
            line.hangup()
            line.hung_up.wait(5)
            self.slots.give_back()
            self.stats.completed += 1
            self.on_event(line_event(line, "ended", keys=dict(line.stats.keys),
                                     codec=line.stats.codec))
            with self._lock:
                self._workers.discard(threading.current_thread())
