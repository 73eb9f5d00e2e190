"""Moves one call's audio between PJSIP's conference bridge and our pipeline.

PJSIP decodes G.711 from RTP and resamples it to the bridge rate; the call's port receives those
frames (``onFrameReceived``, the caller's voice) and supplies the agent's speech
(``onFrameRequested``). Both callbacks run in PJSIP's media clock thread every 20 ms, so they only
touch small locked buffers; the call's worker thread reads the caller's audio and queues prompts
from outside.

Two objects, because of lifetimes: ``CallAudio`` is the buffers, plain Python, which the worker
may hold as long as it likes; ``CallAudioPort`` is the pjsua2 port, whose C++ destructor calls
into PJSIP, so only the sip-loop thread holds it and ``close()`` destroys it there before the
stack goes (a port freed later, by whichever thread dropped the last reference, touched a
destroyed conference bridge and crashed the process).

Barge-in is ``stop_playback()``: the rest of the prompt is dropped and silence follows at once.
"""
from __future__ import annotations

import queue
import threading

from voice_agent.sip.stack import pj

FRAME_MS = 20


class CallAudio:
    """One call's audio at ``rate`` Hz, 16-bit mono, 20 ms frames. Safe to use from any thread."""

    def __init__(self, rate: int = 16000, max_queued_s: float = 30.0):
        self.rate = rate
        self.frame_bytes = rate * FRAME_MS // 1000 * 2
        self._silence = b"\0" * self.frame_bytes
        self._out = bytearray()
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        # Caller audio waiting for the worker; bounded so a stalled worker cannot eat memory
        # (old frames are dropped, which only happens if the worker is far behind).
        self._in: queue.Queue[bytes] = queue.Queue(maxsize=int(max_queued_s * 1000 / FRAME_MS))
        self.frames_in = 0
        self.frames_out = 0

    # -- called by the port, in PJSIP's media thread --------------------------------------------
    def next_frame(self) -> bytes:
        """The next 20 ms of speech, silence where there is none."""
        with self._lock:
            chunk = bytes(self._out[: self.frame_bytes])
            del self._out[: self.frame_bytes]
            if not self._out:
                self._idle.set()
        if len(chunk) < self.frame_bytes:
            chunk += self._silence[len(chunk):]
        else:
            self.frames_out += 1
        return chunk

    def received(self, data: bytes) -> None:
        """20 ms of the caller's voice."""
        self.frames_in += 1
        try:
            self._in.put_nowait(data)
        except queue.Full:
            try:
                self._in.get_nowait()
            except queue.Empty:
                pass
            self._in.put_nowait(data)

    # -- called by the call's worker ------------------------------------------------------------
    def play(self, pcm: bytes) -> None:
        """Queue speech (16-bit mono PCM at ``self.rate``) after whatever is playing."""
        if not pcm:
            return
        with self._lock:
            self._out += pcm
            self._idle.clear()

    def stop_playback(self) -> None:
        """Barge-in: drop the rest of the prompt."""
        with self._lock:
            self._out.clear()
            self._idle.set()

    @property
    def playing(self) -> bool:
        return not self._idle.is_set()

    def remaining_s(self) -> float:
        with self._lock:
            return len(self._out) / (2 * self.rate)

    def wait_played(self, timeout: float | None = None) -> bool:
        return self._idle.wait(timeout)

    def read(self, timeout: float) -> bytes | None:
        """The next 20 ms of caller audio, or None after ``timeout`` seconds without any."""
        try:
            return self._in.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self) -> None:
        """Forget caller audio received so far (e.g. our own prompt echoed back before listening)."""
        while True:
            try:
                self._in.get_nowait()
            except queue.Empty:
                return


class CallAudioPort(pj.AudioMediaPort):
    """The pjsua2 port of a call's ``audio`` (sip-loop thread only; see the module's docstring)."""

    def __init__(self, audio: CallAudio):
        super().__init__()
        self.audio = audio
        fmt = pj.MediaFormatAudio()
        fmt.init(pj.PJMEDIA_FORMAT_PCM, audio.rate, 1, FRAME_MS * 1000, 16)
        self.createPort("va-call", fmt)

    def close(self) -> None:
        """Destroy the C++ port now, while this object is whole (sip-loop thread).

        Left to the garbage collector, the C++ destructor would run with this object already
        half torn down, and it lets the media thread in (it releases the GIL): a frame callback
        then ran on a dead object. Here a callback already under way finishes on a live one, and
        the destructor stops any later one. Afterwards the object owns nothing."""
        if self.thisown:
            pj.AudioMediaPort.__swig_destroy__(self)

    # -- called by PJSIP's media thread -------------------------------------------------------
    def onFrameRequested(self, frame) -> None:  # noqa: N802 (PJSIP's name)
        chunk = self.audio.next_frame()
        frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
        frame.buf = pj.ByteVector(chunk)
        frame.size = len(chunk)

    def onFrameReceived(self, frame) -> None:  # noqa: N802
        if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO and frame.size > 0:
            self.audio.received(bytes(frame.buf))
