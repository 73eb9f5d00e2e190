"""The walk-up kiosk: microphone in, speaker out, live captions of both sides on the terminal.

Captions are there for callers who are hard of hearing; typed keys (digits, ``#``, ``*`` then
Enter) work like the phone keypad; ``q`` hangs up. The microphone is not listened to while the
agent speaks (no barge-in), so the agent never hears itself.

Devices are reached through small seams (``mic`` yields PCM chunks, ``speaker`` plays PCM,
``keys`` is a queue of typed entries) so tests run the whole loop with fakes and no sound card.
"""
from __future__ import annotations

import queue
import sys
import threading
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
    threading.Thread(target=warm_up, args=(settings, services.nlu, [lang] if lang else None),
                     daemon=True).start()
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
