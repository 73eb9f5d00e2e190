"""One SIP call as the dialogue worker sees it: audio in and out, keypad, hang-up, transfer.

``SipCall`` is PJSIP's call object; its callbacks run in the sip-loop thread and only set events and
fill queues. ``CallLine`` is what the call's worker thread uses; everything that touches PJSIP goes
back to the loop thread through ``SipEndpoint.call_soon``, and it holds no pjsua2 object (only the
call's ``CallAudio`` buffers), so a worker that outlives the stack frees nothing of PJSIP's.
Keypad digits are queued, never logged.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from voice_agent.sip.address import rewrite_sdp
from voice_agent.sip.media import CallAudio, CallAudioPort
from voice_agent.sip.stack import SipEndpoint, pj

log = logging.getLogger("voice_agent.sip")

DTMF_METHODS = {pj.PJSUA_DTMF_METHOD_RFC2833: "rfc4733", pj.PJSUA_DTMF_METHOD_SIP_INFO: "sip-info"}


@dataclass
class CallStats:
    """Counts for the call log (no content): how keys arrived, how much audio moved."""

    keys: dict[str, int] = field(default_factory=dict)
    answered_at: float = 0.0
    media_at: float = 0.0
    codec: str = ""


class CallLine:
    """The worker's handle on one call. Safe to use from any thread."""

    def __init__(self, endpoint: SipEndpoint, number: int, source: str, caller_id: str | None,
                 rate: int):
        self.endpoint = endpoint
        self.number = number           # our own running number, for logs
        self.source = source           # peer address, for logs
        self.sip_call_id: str | None = None   # the SIP Call-ID, for events (set when answered)
        self.call_id: int | None = None       # the store's call id, for events (once known)
        self.hung_up_by: str | None = None    # "caller" or "agent", once the call ended
        self.caller_id = caller_id
        self.rate = rate
        self.audio: CallAudio | None = None   # set once media flows; plain Python
        self.keys: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.media_ready = threading.Event()
        self.hung_up = threading.Event()
        self.transfer_result: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.stats = CallStats()
        self.call: SipCall | None = None

    # -- audio ---------------------------------------------------------------------------------
    def play(self, pcm: bytes) -> None:
        if self.audio is not None and not self.hung_up.is_set():
            self.audio.play(pcm)

    def stop_playback(self) -> None:
        if self.audio is not None:
            self.audio.stop_playback()

    @property
    def playing(self) -> bool:
        return self.audio is not None and self.audio.playing

    def read_audio(self, timeout: float = 0.1) -> bytes | None:
        """20 ms of caller audio at ``self.rate``, or None (nothing yet, or the call is gone)."""
        if self.audio is None:
            self.media_ready.wait(timeout)
            return None
        return self.audio.read(timeout)

    def read_key(self) -> str | None:
        try:
            return self.keys.get_nowait()
        except queue.Empty:
            return None

    # -- call control ----------------------------------------------------------------------------
    def hangup(self, status: int = 200) -> None:
        if self.hung_up.is_set():
            return

        def _do() -> None:
            call = self.call          # looked up in the loop thread: None once disconnected
            if call is not None and not self.hung_up.is_set():
                self.hung_up_by = "agent"
                prm = pj.CallOpParam()
                prm.statusCode = status
                try:
                    call.hangup(prm)
                except pj.Error:
                    pass
        self.endpoint.call_soon(_do)

    def transfer(self, target: str, timeout: float = 20.0) -> bool:
        """Blind transfer with REFER. True when the far end reports the transfer went through."""
        if self.hung_up.is_set():
            return False

        def _do() -> bool:
            call = self.call
            if call is None:
                return False
            call.xfer(target, pj.CallOpParam(True))
            return True
        try:
            if not self.endpoint.call_soon(_do).result(5):
                return False
        except Exception as exc:  # noqa: BLE001 - pj.Error or timeout: the REFER was not sent
            log.warning("call %d: REFER not sent: %s", self.number, getattr(exc, "reason", exc))
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                code = self.transfer_result.get(timeout=0.2)
            except queue.Empty:
                if self.hung_up.is_set():
                    return True   # the PBX took the call away: that is a completed blind transfer
                continue
            if code >= 300:
                return False
            if 200 <= code < 300:
                return True
        return False


class SipCall(pj.Call):
    """PJSIP callbacks for one incoming call, forwarded to its ``CallLine``.

    Lifetime matters: pjsua2's destructor clears (and hangs up) whatever call holds its id *now*,
    and PJSIP reuses ids. So the only lasting references are the server's table and
    ``CallLine.call``, both dropped inside the DISCONNECTED callback; the object then dies when
    that callback returns, as PJSIP's own examples do with ``delete this``. Its audio port is
    destroyed there too (``release()``), or by the server just before the stack goes.
    """

    def __init__(self, account: pj.Account, call_id: int, line: CallLine, on_end,
                 advertise: Callable[[str, str], str | None] | None = None):
        super().__init__(account, call_id)
        self.line = line
        line.call = self
        self._on_end = on_end
        self._advertise = advertise     # (caller's SDP, SIP source) -> our media address, or None
        self._port: CallAudioPort | None = None
        self.audio_index: int | None = None   # the active audio stream, for the RTP watch

    def onCallState(self, prm) -> None:  # noqa: N802
        try:
            info = self.getInfo()
        except pj.Error:
            return
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.line.stats.answered_at = time.monotonic()
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            line = self.line
            line.hung_up_by = line.hung_up_by or "caller"   # set before anyone sees hung_up
            line.hung_up.set()
            line.media_ready.set()
            if line.audio is not None:
                line.audio.stop_playback()
            line.call = None
            self.release()             # the worker keeps line.audio, plain Python, while it runs
            self._on_end(self)

    def release(self) -> None:
        """Destroy the audio port (sip-loop thread)."""
        if self._port is not None:
            self._port.close()
            self._port = None

    def onCallSdpCreated(self, prm) -> None:  # noqa: N802
        """Our SDP is about to go out: put the address this caller can reach in it (address.py)."""
        if self._advertise is None:
            return
        address = self._advertise(prm.remSdp.wholeSdp, self.line.source)
        if address:
            prm.sdp.wholeSdp = rewrite_sdp(prm.sdp.wholeSdp, address)

    def onCallMediaState(self, prm) -> None:  # noqa: N802
        try:
            info = self.getInfo()
        except pj.Error:
            return
        for index, media in enumerate(info.media):
            if media.type != pj.PJMEDIA_TYPE_AUDIO or media.status != pj.PJSUA_CALL_MEDIA_ACTIVE:
                continue
            audio = self.getAudioMedia(index)
            if self._port is None:
                self._port = CallAudioPort(self.line.audio or CallAudio(self.line.rate))
            audio.startTransmit(self._port)
            self._port.startTransmit(audio)
            try:
                self.line.stats.codec = self.getStreamInfo(index).codecName
            except pj.Error:
                pass
            self.line.audio = self._port.audio
            self.audio_index = index
            self.line.stats.media_at = time.monotonic()
            self.line.media_ready.set()

    def onDtmfDigit(self, prm) -> None:  # noqa: N802 - RFC 4733 events and SIP INFO both arrive here
        method = DTMF_METHODS.get(prm.method, "other")
        self.line.stats.keys[method] = self.line.stats.keys.get(method, 0) + 1
        self.line.keys.put(str(prm.digit))

    def onCallTransferRequest(self, prm) -> None:  # noqa: N802
        """A REFER from the far end: declined. pjsua would accept it (202) and dial the Refer-To
        target itself (measured), letting whoever reaches the line make the agent call anywhere."""
        prm.statusCode = 603

    def onCallTransferStatus(self, prm) -> None:  # noqa: N802
        if prm.finalNotify or prm.statusCode >= 200:
            self.line.transfer_result.put(int(prm.statusCode))
            prm.cont = False
