"""PJSIP (pjsua2) set up for a headless phone agent, driven from one thread.

Why one thread: pjsua2 objects are not safe to touch from arbitrary Python threads. The endpoint is
created in its own "sip-loop" thread with no PJSIP worker threads (``threadCnt=0``), that thread polls
``libHandleEvents`` and also runs commands other threads post with ``call_soon`` (hang up, transfer).
Only the media clock thread calls into Python besides it, and only into ``CallAudioPort``.

Logging: PJSIP's own log goes through ``logging`` (``pjsip_log_record``) at the level the operator
chose (``--sip-log-level``, PJSIP's 0-6; errors only by default). SIP message dumps stay off at
every level, and the one dump PJSIP makes regardless (a malformed packet, "Error processing
packet") is cut to a one-line summary: peer, method, reason. Every line is masked by
``voice_agent.redact.mask_sip_log``: addresses, ports and status codes stay, the caller's number
and keys do not.
"""
from __future__ import annotations

import concurrent.futures
import logging
import os
import queue
import re
import socket
import threading
from collections.abc import Callable
from typing import Any

from voice_agent.redact import mask_sip_log

try:
    import pjsua2 as pj
except ImportError as exc:  # pragma: no cover - depends on the machine
    raise ImportError("the phone line needs PJSIP's Python bindings: pip install 'voice_agent[sip]' "
                      "(package pjsua2-python)") from exc

from voice_agent.sip.answers import RequestAnswers, parse_head  # noqa: E402 - needs pjsua2

log = logging.getLogger("voice_agent.sip")

# The pjsua2-python wheel (2.15.1) is built with PJSUA_MAX_CALLS = 4 and PJSIP silently clamps any
# larger setting to it (measured: the fifth concurrent call gets 486). More lines need more
# `serve` processes (one port each, the PBX hunts across them) or a PJSIP built with a larger limit.
PJSUA_CALL_LIMIT = 4
# Codecs a PBX or trunk speaks for sure; the rest are disabled so the answer is always G.711.
G711 = ("PCMU/8000/1", "PCMA/8000/1")


# PJSIP's levels: 1 error, 2 warning, 3 info, 4 debug, 5 trace, 6 more trace. PJSIP passes on
# only the lines at or below the level asked for, so every one it passes is wanted: 3 and above
# are logged at INFO (the log file's level), not dropped as DEBUG.
MAX_LOG_LEVEL = 6
_REQUEST_LINE = re.compile(r"([A-Z][A-Z-]{1,19}) \S+ SIP/2\.0\s*$")


def pjsip_log_record(level: int, text: str) -> tuple[int, str]:
    """A PJSIP log entry as (``logging`` level, masked message of one line).

    Only an entry's first line is kept: the lines after it are a dump (the packet PJSIP could not
    process, which may hold keys or a caller's number, or a call's state). For a packet the
    request's method is named and the level is at least WARNING (a peer's fault, not ours)."""
    first, _, rest = text.rstrip().partition("\n")
    py_level = logging.ERROR if level <= 1 else logging.WARNING if level == 2 else logging.INFO
    if not rest.strip():
        return py_level, mask_sip_log(first)
    packet = rest.strip().splitlines()[0]
    method = _REQUEST_LINE.match(packet)
    if method or packet.startswith("SIP/2.0 ") or "packet" in first:
        what = (f"{method.group(1)} request" if method else
                "response" if packet.startswith("SIP/2.0 ") else "unreadable packet")
        return logging.WARNING, mask_sip_log(f"{first.rstrip(': ')} ({what}, not logged)")
    return py_level, mask_sip_log(f"{first} ({len(rest.strip().splitlines())} more lines not logged)")


class _MaskedLogWriter(pj.LogWriter):
    """PJSIP's own log lines, routed to ``logging`` (``pjsip_log_record``)."""

    def write(self, entry) -> None:
        level, msg = pjsip_log_record(entry.level, entry.msg)
        log.log(level, "pjsip: %s", msg)


class _QuietStdout:
    """libCreate logs a few start-up lines to fd 1 before any log setting can apply: send them away."""

    def __enter__(self):
        self._saved = os.dup(1)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)

    def __exit__(self, *exc):
        os.dup2(self._saved, 1)
        os.close(self._saved)


class _Endpoint(pj.Endpoint):
    """PJSIP's endpoint, reporting the calls PJSIP itself turned away (e.g. 486 when every call
    slot is taken: that happens before any media is set up, so floods stay cheap)."""

    def __init__(self, on_rejected: Callable[[int, str, str | None, str | None], None]):
        super().__init__()
        self._on_rejected = on_rejected

    def onRejectedIncomingCall(self, prm) -> None:  # noqa: N802
        peer, call_id = None, prm.callId or None
        try:
            peer = prm.rdata.srcAddress or None
            if call_id is None:                  # not filled in when the INVITE failed verification
                head = parse_head(prm.rdata.wholeMsg.encode("utf-8", "replace"))
                call_id = head.call_id if head else None
        except (AttributeError, pj.Error):    # "on some cases it is not available"
            pass
        self._on_rejected(int(prm.statusCode), str(prm.reason or ""), peer, call_id)


class SipEndpoint:
    """A PJSIP endpoint on HOST:PORT (UDP), G.711 only, no sound card.

    ``on_ready(endpoint)`` runs in the loop thread once the stack is up; it creates the account.
    """

    def __init__(self, host: str, port: int, *, max_calls: int, clock_rate: int = 16000,
                 log_level: int = 1, on_ready: Callable[[SipEndpoint], None] | None = None,
                 on_rejected: Callable[[int, str, str | None, str | None], None] | None = None,
                 public_address: str = ""):
        self.host, self.port = host, port
        self.public_address = public_address      # for SDP, Contact and Via (see address.py)
        self.max_calls = max_calls
        self.clock_rate = clock_rate
        self.log_level = log_level
        self._on_ready = on_ready
        # (status, reason, peer "host:port", SIP Call-ID) of each INVITE PJSIP turned away itself
        self._on_rejected = on_rejected or (lambda *rejected: None)
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], concurrent.futures.Future]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sip-loop", daemon=True)
        self.ep: pj.Endpoint | None = None
        self._before_destroy: Callable[[], None] | None = None
        self._writer: _MaskedLogWriter | None = _MaskedLogWriter()
        self.answers = RequestAnswers()   # final answers to requests pjsua leaves unanswered

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        if not self._started.wait(timeout):
            raise RuntimeError("SIP stack did not start in time")
        if self._error:
            raise self._error

    def stop(self, timeout: float = 10.0, before_destroy: Callable[[], None] | None = None) -> None:
        """Stop the loop; ``before_destroy`` runs in the loop thread (drop pjsua2 objects there)."""
        self._before_destroy = before_destroy
        self._stop.set()
        self._thread.join(timeout)

    def register_thread(self) -> None:
        """PJSIP asserts (and aborts the process) when an unknown thread calls it, which includes
        dropping the last reference to a pjsua2 object; threads that hold such objects register first."""
        if self.ep is not None and not self.ep.libIsThreadRegistered():
            self.ep.libRegisterThread(threading.current_thread().name)

    def call_soon(self, fn: Callable[[], Any]) -> concurrent.futures.Future:
        """Run ``fn`` in the loop thread (the only thread allowed to touch pjsua2 call objects)."""
        fut: concurrent.futures.Future = concurrent.futures.Future()
        if threading.current_thread() is self._thread:
            try:
                fut.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the waiter
                fut.set_exception(exc)
            return fut
        self._jobs.put((fn, fut))
        return fut

    def _run(self) -> None:
        try:
            self._create()
            if self._on_ready:
                self._on_ready(self)
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._error = exc if not isinstance(exc, pj.Error) else RuntimeError(
                f"SIP stack: {exc.info() if hasattr(exc, 'info') else exc}")
            self._started.set()
            self._destroy()
            return
        self._started.set()
        while not self._stop.is_set():
            try:
                self.ep.libHandleEvents(10)
            except pj.Error as exc:  # one bad event must not end the loop
                log.error("SIP event error: %s", getattr(exc, "reason", exc))
            self._run_jobs()
        self._run_jobs()
        if self._before_destroy is not None:
            self._before_destroy()
        import gc
        gc.collect()              # pjsua2 objects must die before libDestroy, in this thread
        self._destroy()

    def _run_jobs(self) -> None:
        while True:
            try:
                fn, fut = self._jobs.get_nowait()
            except queue.Empty:
                return
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn())
                except BaseException as exc:  # noqa: BLE001
                    fut.set_exception(exc)

    # -- PJSIP set-up ---------------------------------------------------------------------------
    def _create(self) -> None:
        ep = _Endpoint(self._on_rejected)
        with _QuietStdout():
            ep.libCreate()
        self.ep = ep
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = False
        # PJSIP's own cap is ours: beyond it PJSIP answers 486 statelessly, before creating
        # any RTP socket, which is what keeps an INVITE flood from an allowed peer cheap.
        cfg.uaConfig.maxCalls = min(self.max_calls, PJSUA_CALL_LIMIT)
        cfg.uaConfig.userAgent = "voice-agent"
        cfg.logConfig.level = self.log_level
        cfg.logConfig.consoleLevel = self.log_level
        cfg.logConfig.msgLogging = False
        cfg.logConfig.writer = self._writer
        cfg.medConfig.clockRate = self.clock_rate
        cfg.medConfig.sndClockRate = self.clock_rate
        cfg.medConfig.ecTailLen = 0          # no echo canceller: the far end is a phone network
        cfg.medConfig.noVad = True           # keep every frame; our endpointer decides what is speech
        cfg.medConfig.threadCnt = 1
        cfg.medConfig.maxMediaPorts = max(32, 4 * self.max_calls + 8)
        ep.libInit(cfg)
        # UDP only. PJSIP's TCP listener registers every accepted connection in a fixed-size
        # select() ioqueue (64 handles in this build); a burst of connections exhausted it and
        # aborted the whole process in our flood test. PBXs and trunks speak UDP by default.
        tc = pj.TransportConfig()
        tc.port = self.port
        # SO_REUSEPORT lets the front door (door.py) share the port and take strangers' datagrams.
        reuse = pj.SockOpt()
        reuse.level, reuse.optName = socket.SOL_SOCKET, socket.SO_REUSEPORT
        reuse.setOptValInt(1)
        tc.sockOptParams.sockOpts.append(reuse)
        if self.host not in ("0.0.0.0", "::", ""):
            tc.boundAddress = self.host
        tc.publicAddress = self.advertised
        ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tc)
        ep.libStart()
        self.answers.install()
        ep.audDevManager().setNullDev()
        for codec in ep.codecEnum2():
            ep.codecSetPriority(codec.codecId, 0)
        for prio, codec in zip((255, 254), G711):
            ep.codecSetPriority(codec, prio)

    def bind_media(self, cfg: pj.AccountConfig) -> None:
        """RTP bound to the same address as SIP, on ports picked at random in 30000-39999 (PJSIP
        would start at 4000 and log a bind error for every port some other program holds)."""
        tc = cfg.mediaConfig.transportConfig
        tc.port, tc.portRange, tc.randomizePort = 30000, 10000, True
        if self.host not in ("0.0.0.0", "::", ""):
            tc.boundAddress = self.host
        tc.publicAddress = self.advertised

    @property
    def advertised(self) -> str:
        """The address PJSIP puts in SIP and SDP: ``public_address``, else the listen address;
        "" (listening on a wildcard) lets PJSIP pick, and the server rewrites SDP per call."""
        if self.public_address:
            return self.public_address
        return "" if self.host in ("0.0.0.0", "::", "") else self.host

    def _destroy(self) -> None:
        if self.ep is not None:
            self.answers.uninstall()
            try:
                self.ep.libDestroy()
            except pj.Error:
                pass
            self.ep = None
            # libDestroy deleted the writer's C++ half (LogConfig.writer is PJSIP's to delete):
            # what is left is a wrapper around freed memory, not to be kept or called.
            self._writer = None
