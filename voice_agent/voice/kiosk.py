"""The kiosk's sound devices, and its terminal loop (`voice-agent run --no-screen`).

The devices: ``find_device`` (by number or by name), ``Speaker`` (plays without blocking, can be
cut short), ``MicStream`` (the microphone as chunks, with the time of its last audio) are used by
the kiosk screen (voice_agent/kiosk); ``microphone`` and ``kiosk_loop`` by the terminal loop.

The terminal loop, for headless kiosks: microphone in, speaker out, live captions of both sides
on the terminal. Captions are there for callers who are hard of hearing; typed keys (digits,
``#``, ``*`` then Enter) work like the phone keypad; ``q`` hangs up. The microphone is not
listened to while the agent speaks (no barge-in), so the agent never hears itself.

Devices are reached through small seams (``mic`` yields PCM chunks, ``speaker`` plays PCM,
``keys`` is a queue of typed entries) so tests run the whole loop with fakes and no sound card.
"""
from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator

from voice_agent.voice.audio import convert
from voice_agent.voice.models import find_model
from voice_agent.voice.pipeline import RATE, Heard, VoiceCall, warm_up
from voice_agent.voice.recorded import caption

CHUNK_S = 0.03


class KioskError(RuntimeError):
    """The kiosk cannot start; the message says why and what to use instead."""


def _sounddevice():
    try:
        import sounddevice as sd
    except OSError as exc:     # PortAudio missing
        raise KioskError(f"no audio system ({exc}); install libportaudio2, or use text mode: "
                         "voice-agent chat") from None
    return sd


def list_devices() -> str:
    try:
        return str(_sounddevice().query_devices())
    except KioskError as exc:
        return str(exc)


def _has_device(sd, kind: str, index: int | None) -> bool:
    try:
        if index is not None:
            return sd.query_devices(index, kind) is not None
        devices = sd.query_devices()
        return any(d[f"max_{kind}_channels"] > 0 for d in devices)
    except (ValueError, sd.PortAudioError):
        return False


def devices_present(input_device: int | None, output_device: int | None) -> tuple[bool, bool, str]:
    """(a microphone, a speaker, why not, in words for the operator; "" when both are there)."""
    try:
        sd = _sounddevice()
    except KioskError as exc:
        return False, False, str(exc)
    mic, speaker = _has_device(sd, "input", input_device), _has_device(sd, "output", output_device)
    why = ", ".join(w for w, ok in (("no microphone found", mic), ("no speaker found", speaker)) if not ok)
    return mic, speaker, why


def kiosk_possible(settings, lang: str | None = None, input_device: int | None = None,
                   output_device: int | None = None) -> tuple[bool, str]:
    """Whether a kiosk can run here, and if not, why (in words for the operator)."""
    try:
        sd = _sounddevice()
    except KioskError as exc:
        return False, str(exc)
    if not _has_device(sd, "input", input_device):
        return False, "no microphone found"
    if not _has_device(sd, "output", output_device):
        return False, "no speaker found"
    langs = [lang] if lang else list(settings.languages)
    if not any(find_model(settings, code) for code in langs):
        return False, f"no speech model for {', '.join(langs)}"
    return True, "ok"


def find_device(name: str | int | None, kind: str) -> int | None:
    """A sound device by number or by (part of) its name as ``--list-devices`` shows it, that
    has ``kind`` ("input" or "output") channels; None (or "") is the system default."""
    if name is None or name == "":
        return None
    if isinstance(name, int) or str(name).isdigit():
        return int(name)
    sd = _sounddevice()
    usable = [(i, d["name"]) for i, d in enumerate(sd.query_devices())
              if d[f"max_{kind}_channels"] > 0]
    exact = [i for i, found in usable if found.lower() == name.lower()]
    partial = [i for i, found in usable if name.lower() in found.lower()]
    if not (exact or partial):
        raise KioskError(f"no {kind} device named {name!r} (see voice-agent run --list-devices)")
    return (exact or partial)[0]


class Speaker:
    """Plays replies without blocking, so a key (or speech, with an echo canceller) can cut a
    reply short; ``playing`` says whether one is still sounding."""

    MARGIN_S = 0.15        # the device's output latency: the reply is heard a little after

    def __init__(self, device: int | None = None) -> None:
        self.device = device
        self._until = 0.0

    def play(self, pcm: bytes, rate: int) -> None:
        import numpy as np
        sd = _sounddevice()
        sd.play(np.frombuffer(pcm, "<i2"), rate, device=self.device, blocking=False)
        self._until = time.monotonic() + len(pcm) / 2 / rate + self.MARGIN_S

    def stop(self) -> None:
        if self.playing:
            _sounddevice().stop()
        self._until = 0.0

    @property
    def playing(self) -> bool:
        return time.monotonic() < self._until


class MicStream:
    """The microphone as a stream of 16 kHz chunks handed to ``deliver`` (from PortAudio's
    thread); ``last_audio_at`` tells whether it still delivers."""

    def __init__(self, device: int | None, deliver: Callable[[bytes], None]) -> None:
        self.device, self.deliver = device, deliver
        self.last_audio_at = time.monotonic()
        self._stream = None

    def open(self) -> None:
        """Start listening (KioskError, in words for the operator, when the device refuses)."""
        sd = _sounddevice()
        rate = RATE
        try:
            sd.check_input_settings(device=self.device, samplerate=RATE, channels=1, dtype="int16")
        except Exception:   # PortAudio reports unsupported rates with several exception types
            rate = int(sd.query_devices(self.device, "input")["default_samplerate"])

        def callback(indata, frames, time_info, status) -> None:
            self.last_audio_at = time.monotonic()
            chunk = bytes(indata)      # copy: PortAudio reuses the buffer
            self.deliver(chunk if rate == RATE else convert(chunk, rate, RATE))

        try:
            self._stream = sd.RawInputStream(samplerate=rate, blocksize=int(rate * CHUNK_S),
                                             device=self.device, channels=1, dtype="int16",
                                             callback=callback)
            self._stream.start()
        except sd.PortAudioError as exc:
            raise KioskError(f"cannot open the microphone: {exc}") from None
        self.last_audio_at = time.monotonic()

    def close(self) -> None:
        if self._stream is not None:
            try:
                self._stream.close()
            except Exception:       # a device that vanished: nothing left to close
                pass
            self._stream = None


def microphone(device: int | None, stop: threading.Event, muted: threading.Event) -> Iterator[bytes]:
    """16 kHz 16-bit mono chunks from a sound card (resampled when it cannot do 16 kHz)."""
    sd = _sounddevice()
    rate = RATE
    try:
        sd.check_input_settings(device=device, samplerate=RATE, channels=1, dtype="int16")
    except Exception:   # PortAudio reports unsupported rates with several exception types
        rate = int(sd.query_devices(device, "input")["default_samplerate"])
    chunks: queue.Queue[bytes] = queue.Queue()

    def callback(indata, frames, time_info, status) -> None:
        if not muted.is_set():
            chunks.put(bytes(indata))     # copy: PortAudio reuses the buffer

    try:
        stream = sd.RawInputStream(samplerate=rate, blocksize=int(rate * CHUNK_S), device=device,
                                   channels=1, dtype="int16", callback=callback)
    except sd.PortAudioError as exc:
        raise KioskError(f"cannot open the microphone: {exc}") from None
    with stream:
        while not stop.is_set():
            try:
                chunk = chunks.get(timeout=0.5)
            except queue.Empty:
                continue
            yield chunk if rate == RATE else convert(chunk, rate, RATE)


def keyboard(entries: queue.Queue, stop: threading.Event) -> None:
    """Typed lines to the queue (runs in a daemon thread)."""
    for line in sys.stdin:          # at end of input the kiosk just keeps listening
        entries.put(line.strip())
        if stop.is_set():
            break


def kiosk_loop(call: VoiceCall, settings, mic: Iterable[bytes], speaker: Callable[[bytes, int], None],
               keys: queue.Queue | None = None, show: Callable[[str], None] = print,
               muted: threading.Event | None = None) -> VoiceCall:
    """Run one conversation until the agent ends it, the caller types q, or the mic runs dry."""
    keys = keys or queue.Queue()
    muted = muted or threading.Event()
    turns = call.turn_loop(RATE)          # speech is decoded as it is spoken

    def speak(ex) -> None:
        caption(ex, show)
        muted.set()
        try:
            speaker(ex.reply_pcm, ex.reply_rate)
        except Exception as exc:     # a speaker that fails mid-call must not end it: captions go on
            show(f"  (could not play the reply: {exc})")
        finally:
            muted.clear()
        turns.start(ex.turn.expecting)

    speak(call.start())
    source = iter(mic)
    while not call.ended:
        heard: Heard | None = None
        while heard is None:
            try:
                typed = keys.get_nowait()
            except queue.Empty:
                typed = None
            if typed is not None:
                if typed.lower() in ("q", "quit", "exit"):
                    call.hang_up()
                    show("  (hung up)")
                    return call
                entry = "".join(c for c in typed if c.isdigit() or c in "#*")
                if entry:
                    heard = call.hear(turns.typed(entry))
                    break
            chunk = next(source, None)
            if chunk is None:
                call.hang_up()
                show("  (microphone closed: hung up)")
                return call
            end = turns.feed(chunk)
            if end is not None:
                heard = call.hear(end)      # an utterance was decoded as spoken: only its end left
        speak(call.respond(heard))
    return call


def run_kiosk(settings, lang: str | None = None, input_device: int | None = None,
              output_device: int | None = None) -> int:
    """`voice-agent run`: check the devices and the model, then serve one caller after another."""
    ready, why = kiosk_possible(settings, lang, input_device, output_device)
    if not ready:
        hint = ("install one with `voice-agent models install NAME --lang LANG`"
                if why.startswith("no speech model") else "connect one or pick one with --input-device/--output-device")
        raise KioskError(f"the kiosk cannot start: {why}; {hint}. Text mode works anywhere: "
                         "voice-agent chat")
    from voice_agent.voice.models import ModelError
    from voice_agent.voice.models import load as load_model
    from voice_agent.voice.tts import Player
    for code in ([lang] if lang else settings.languages):
        info = find_model(settings, code)
        if info is not None:
            print(f"loading the {code} speech model ({info.source}) ...", flush=True)
            try:
                load_model(info)           # now, not when the first caller speaks
            except ModelError as exc:
                raise KioskError(str(exc)) from None
    from voice_agent.app import build
    services = build(settings)
    # Expand the open-vocabulary graph in the background: the first caller then decodes warm.
    # (not a daemon: one still inside Vosk at interpreter exit would crash it, cli/sip_cmds.py)
    threading.Thread(target=warm_up, args=(settings, services.nlu, [lang] if lang else None),
                     name="warm-up").start()
    stop, muted = threading.Event(), threading.Event()
    keys: queue.Queue = queue.Queue()
    threading.Thread(target=keyboard, args=(keys, stop), daemon=True).start()
    player = Player(output_device)
    print("kiosk ready: speak, or type keys (digits, # to finish, * to cancel) and Enter; "
          "q hangs up, Ctrl-C quits", flush=True)
    try:
        while True:
            call = services.voice_call(lang=lang, channel="kiosk")
            kiosk_loop(call, settings, microphone(input_device, stop, muted), player.play, keys,
                       muted=muted)
            print("--- next caller ---", flush=True)
    except KeyboardInterrupt:
        return 0
    finally:
        stop.set()
        services.close()
