"""`voice-agent run`: the kiosk screen, with the microphone and speaker when the kiosk has them.

Sound is optional here: without a sound device or a speech model the screen and its keypad run
whole calls on their own (captions are the agent's voice), and the reason is printed and logged.
"""
from __future__ import annotations

import logging
import threading

from voice_agent.voice.kiosk import KioskError, MicStream, Speaker, devices_present, find_device
from voice_agent.voice.models import find_model

log = logging.getLogger(__name__)


def sound_devices(settings, input_device: int | None,
                  output_device: int | None) -> tuple[int | None, int | None, bool, bool]:
    """(input, output, use the microphone, use the speaker): the devices by number or by the
    names in the settings, and which of them this kiosk has (the log says why not; the
    microphone needs a speech model too)."""
    kiosk = settings["kiosk"]
    inp = find_device(input_device if input_device is not None else kiosk["input_device"], "input")
    out = find_device(output_device if output_device is not None else kiosk["output_device"], "output")
    mic, speaker, why = devices_present(inp, out)
    if mic and not any(find_model(settings, code) for code in settings.languages):
        mic, why = False, f"no speech model for {', '.join(settings.languages)}"
    if why:
        log.warning("kiosk: %s: the screen and its keypad take the calls%s", why,
                    "" if speaker else ", with captions for the agent's voice")
    return inp, out, mic, speaker


def run_screen(settings, lang: str | None = None, input_device: int | None = None,
               output_device: int | None = None) -> int:
    """Serve the screen at http://127.0.0.1:<kiosk.port>/ and customers one after another until
    Ctrl-C or SIGTERM."""
    from voice_agent.app import build
    from voice_agent.kiosk.server import HOST, KioskServer, create_app
    from voice_agent.kiosk.session import KioskSession
    from voice_agent.kiosk.view import Screen
    from voice_agent.voice.pipeline import warm_up

    inp, out, use_mic, use_speaker = sound_devices(settings, input_device, output_device)
    services = build(settings, load_models=use_mic)     # now, not when the first customer speaks
    if use_mic:
        # not a daemon: one still inside Vosk at interpreter exit would crash it (sip_cmds.py)
        threading.Thread(target=warm_up, args=(settings, services.nlu, None),
                         name="warm-up").start()
    screen = Screen(settings.languages, settings.default_language)
    session = KioskSession(services, settings, screen, speaker=Speaker(out) if use_speaker else None,
                           start_lang=lang)
    mic = None
    if use_mic:
        mic = MicStream(inp, session.audio)
        try:
            mic.open()
            session.mic = mic
        except KioskError as exc:
            log.warning("kiosk: %s; the screen and keypad still work", exc)
            session.mic_error = str(exc)
            screen.notice(screen.state["ui"]["mic_lost"])
    stop = threading.Event()
    worker = threading.Thread(target=session.run, args=(stop,), name="kiosk-session", daemon=True)
    worker.start()
    port = int(settings["kiosk"]["port"])
    print(f"kiosk screen at http://{HOST}:{port}/ (open it in the kiosk browser); "
          f"sound: {'microphone and speaker' if use_mic else 'speaker only' if use_speaker else 'none'}",
          flush=True)
    try:
        KioskServer(lambda closing: create_app(session, screen, closing), port).run()  # to Ctrl-C/SIGTERM
    finally:
        stop.set()
        worker.join(timeout=5)
        if mic is not None:
            mic.close()
        services.close()
    return 0
