"""The RTP watch: a caller whose phone stopped sending audio is hung up, freeing the line.

A phone that loses power or network sends no BYE; without this, its call would hold one of the
process's few lines until the dialogue gave up on it (about 50 s of no-input prompts nobody
hears). Every call's received RTP packet count (PJSIP's stream statistics) is read once per tick
in the sip-loop thread, the only thread allowed to touch call objects; a call whose count has not
moved for ``timeout_s`` is hung up. A call on hold (the caller's SDP says inactive or sendonly
towards us) is not judged: no RTP is expected then.

The BYE to a dead phone is never answered, and PJSIP keeps the call's slot (one of the wheel's
four) until that transaction times out after 32 s (measured). So the BYE is sent with a short
transaction timeout (``pjsip_tsx_set_timers``, PJSIP's public C API, called through the binding's
own library and set back at once; PJSIP reads it when the request goes out, all in this one
thread): the slot is free 2 s after the hang-up. Where that symbol is missing it frees after 32 s.
"""
from __future__ import annotations

import contextlib
import ctypes
import logging
import threading
import time
from collections.abc import Callable, Iterable

from voice_agent.sip.call import CallLine, SipCall
from voice_agent.sip.stack import SipEndpoint, pj

log = logging.getLogger("voice_agent.sip")


class RtpWatch:
    """``RtpWatch(endpoint, 15.0, calls, on_silent).start()``; ``calls()`` runs in the loop thread
    and lists the calls in progress; ``on_silent(line, silent_s)`` runs there after the hang-up."""

    def __init__(self, endpoint: SipEndpoint, timeout_s: float,
                 calls: Callable[[], Iterable[SipCall]],
                 on_silent: Callable[[CallLine, float], None]):
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self.tick_s = min(1.0, timeout_s / 4)
        self._calls = calls
        self._on_silent = on_silent
        self._seen: dict[int, tuple[int, float]] = {}    # call number -> (packets, when it moved)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sip-rtp-watch", daemon=True)

    def start(self) -> RtpWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            self.endpoint.call_soon(self.check)

    def check(self, now: float | None = None) -> None:
        """One look at every call (loop thread)."""
        now = time.monotonic() if now is None else now
        alive = set()
        for call in list(self._calls()):
            line = call.line
            alive.add(line.number)
            if call.audio_index is None or line.hung_up.is_set():
                continue
            packets = _received(call)
            if packets is None:                                  # on hold, or no stream yet
                self._seen.pop(line.number, None)
                continue
            seen = self._seen.get(line.number)
            if seen is None or packets != seen[0]:
                self._seen[line.number] = (packets, now)
                continue
            silent = now - seen[1]
            if silent >= self.timeout_s:
                log.warning("call %d: no RTP from %s for %.0f s: hanging up", line.number,
                            line.source, silent)
                self._seen[line.number] = (packets, float("inf"))  # once
                with short_transaction_timeout():
                    line.hangup()                # runs at once: this is the loop thread
                self._on_silent(line, silent)
        for number in set(self._seen) - alive:
            del self._seen[number]


# PJSIP's defaults (sip_config.h): T1, T2, T4 and the transaction timeout ("td", used as Timer
# B/F and D), in ms.
PJSIP_TIMERS = (500, 4000, 5000, 32000)
SHORT_TIMEOUT_MS = 2000


@contextlib.contextmanager
def short_transaction_timeout():
    """Requests sent inside give up after 2 s instead of 32 s (loop thread only)."""
    set_timers = _set_timers()
    if set_timers is None:
        yield
        return
    set_timers(*PJSIP_TIMERS[:3], SHORT_TIMEOUT_MS)
    try:
        yield
    finally:
        set_timers(*PJSIP_TIMERS)


_SET_TIMERS: list = []


def _set_timers():
    if not _SET_TIMERS:
        try:
            fn = ctypes.CDLL(pj._pjsua2.__file__).pjsip_tsx_set_timers
            fn.argtypes, fn.restype = [ctypes.c_uint] * 4, None
        except (OSError, AttributeError):
            log.warning("pjsip_tsx_set_timers not found: a dead caller's line frees after 32 s")
            fn = None
        _SET_TIMERS.append(fn)
    return _SET_TIMERS[0]


def _received(call: SipCall) -> int | None:
    """RTP packets received on the call's audio stream; None when none are expected."""
    try:
        info = call.getInfo()          # held: media[] points into it (SWIG gives no copy)
        media = info.media[call.audio_index]
        if media.status != pj.PJSUA_CALL_MEDIA_ACTIVE or media.dir not in (
                pj.PJMEDIA_DIR_DECODING, pj.PJMEDIA_DIR_ENCODING_DECODING):
            return None
        return int(call.getStreamStat(call.audio_index).rtcp.rxStat.pkt)
    except (pj.Error, IndexError):
        return None
