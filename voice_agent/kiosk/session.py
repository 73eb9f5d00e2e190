"""One customer after another at the kiosk: the bridge between the screen, the sound and a call.

Everything that happens reaches one queue as an event: a key or button on the screen, a chunk of
microphone audio, a touch. One thread takes them in order and drives the call with the same turn
loop as every audio front end (``voice.turns.TurnLoop``): a key from the screen is ``press``-ed
exactly as a phone's keypad event is (``#`` ends an entry, ``*`` clears it, one key answers a
menu), microphone audio is ``feed``-ed. So a whole call works from the screen alone, with no sound
device, and by voice alone, and both at once.

Sound: replies play without blocking. Without an echo canceller the microphone is not listened
to while a reply plays (half-duplex: the agent never hears itself); with one (setting
``kiosk.echo_canceller``) it is, and speech or a key cuts the reply short (barge-in). A key
from the screen always does. A microphone that stops delivering audio is said on the screen and
in the log; the screen and keypad go on.

Between customers: a customer who does nothing for ``kiosk.idle_timeout_s`` is warned first
(spoken and shown), then the call is ended and the screen returns to the welcome page in the
default language; "start over" does the same at once. The call and everything built from it
are dropped here; the page reloads itself (nothing stays in its memory or history).
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from voice_agent.kiosk.view import Screen, entry_shown, ui
from voice_agent.languages import find_language
from voice_agent.voice.pipeline import RATE, Heard

log = logging.getLogger(__name__)

MIC_SILENT_S = 2.0      # no audio from the microphone for this long: it has stopped
POLL_S = 0.03           # how often the loop looks at its clocks when nothing happens


@dataclass(frozen=True)
class Press:
    """A key of the on-screen keypad or a choice button (its key)."""
    key: str


@dataclass(frozen=True)
class Language:
    """A language button."""
    code: str


@dataclass(frozen=True)
class Command:
    """The "repeat" or "slower" button."""
    what: str


@dataclass(frozen=True)
class Start:
    """The welcome page's start button (the call opens with the language menu)."""


@dataclass(frozen=True)
class Touch:
    """Any touch: the customer is still there."""


@dataclass(frozen=True)
class StartOver:
    """The "start over" button."""


@dataclass(frozen=True)
class Audio:
    """A chunk of microphone audio (16 kHz 16-bit mono)."""
    pcm: bytes


Event = Press | Language | Command | Start | Touch | StartOver | Audio
KEYS = frozenset("0123456789*#")
COMMANDS = {"repeat": "repeat_words", "slower": "slower_words"}


class NoSpeaker:
    """A kiosk without a speaker: the captions are the agent's voice."""

    playing = False

    def play(self, pcm: bytes, rate: int) -> None:
        pass

    def stop(self) -> None:
        pass


class KioskSession:
    """Serves customers one after another (``run`` in a thread of its own); ``put`` takes the
    screen's events from any thread, ``audio`` the microphone's chunks."""

    def __init__(self, services, settings, screen: Screen, *, speaker=None, mic=None,
                 start_lang: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        kiosk = settings["kiosk"]
        self.services, self.settings, self.screen = services, settings, screen
        self.speaker = speaker or NoSpeaker()
        self.mic = mic                       # has ``last_audio_at`` (voice.kiosk.MicStream)
        self.mic_error: str | None = None    # the microphone could not be opened
        self.clock = clock
        self.start_lang = start_lang         # the start button and speech (None: the menu)
        self.idle_s = float(kiosk["idle_timeout_s"])
        self.warn_s = float(kiosk["idle_warning_s"])
        self.echo_canceller = bool(kiosk["echo_canceller"])
        self.events: queue.Queue[Event] = queue.Queue()
        self._mic_down = False

    # -- from other threads ---------------------------------------------------------------------
    def put(self, event: Event) -> None:
        self.events.put(event)

    def audio(self, pcm: bytes) -> None:
        self.events.put(Audio(pcm))

    # -- the loop -----------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Welcome, serve, wipe; again, until ``stop``."""
        while not stop.is_set():
            lang = self._wait_for_customer(stop)
            if lang is False:
                break
            try:
                self._serve(lang, stop)
            except Exception:         # a fault must not leave a customer's call on the screen
                log.exception("kiosk session fault")
            finally:
                self.speaker.stop()
                self.screen.welcome(self._mic_notice(self.settings.default_language))

    def _wait_for_customer(self, stop: threading.Event) -> str | None | bool:
        """The language a customer starts in (None: the language menu); False at ``stop``."""
        from voice_agent.voice.endpoint import Endpointer
        listen = Endpointer.from_settings(self.settings["audio"], RATE)
        while not stop.is_set():
            event = self._next()
            if isinstance(event, Language) and event.code in self.settings.languages:
                return event.code
            if isinstance(event, (Start, Press)):
                return self.start_lang
            if isinstance(event, Audio):
                listen.feed(event.pcm)
                if listen.in_speech:
                    return self.start_lang    # someone speaks to the kiosk: greet them
        return False

    def _serve(self, lang: str | None, stop: threading.Event) -> None:
        call = self.services.voice_call(lang=lang, channel="kiosk")
        self.screen.begin_call()
        turns = call.turn_loop(RATE, key_clock=self.clock,
                               on_barge_in=lambda why: self.speaker.stop())
        entry = ""

        def show(ex) -> None:
            nonlocal entry
            entry = ""
            self._play(ex.reply_pcm, ex.reply_rate)
            self.screen.exchange(ex, call, speaking=self.speaker.playing)   # one state: no gap
            turns.start(ex.turn.expecting)

        try:
            show(call.start())
            last, warned = self.clock(), False
            while not stop.is_set():
                event = self._next()
                now = self.clock()
                if isinstance(event, StartOver):
                    return
                if event is not None and not isinstance(event, Audio):
                    last = now
                end = heard = None
                if call.ended or isinstance(event, (Touch, Start)):
                    pass                                  # the end screen stays until idle
                elif isinstance(event, Press) and event.key in KEYS:
                    self.speaker.stop()                   # a key cuts the reply short
                    entry = "" if event.key == "*" else entry + event.key
                    self.screen.entry(entry_shown(entry, call.turn.expecting))
                    turns.press(event.key)
                    end = turns.feed(b"")
                elif isinstance(event, (Language, Command)):
                    words = self._words(event, call.turn.lang)
                    if words:
                        self.speaker.stop()
                        heard = Heard(text=words)
                elif isinstance(event, Audio):
                    playing = self.speaker.playing
                    if not playing or self.echo_canceller:
                        end = turns.feed(event.pcm, prompt_playing=playing)
                        if turns.speech.in_speech:
                            last = now                    # speaking is being there
                else:
                    end = turns.feed(b"")                 # the pause that ends a keyed entry
                if end is not None:
                    heard = call.hear(end)
                if heard is not None:
                    last = now
                    show(call.respond(heard))
                self.screen.speaking(self.speaker.playing)
                if now - last >= self.idle_s:
                    log.info("kiosk: idle for %.0f s, session ended", now - last)
                    return
                warn = now - last >= self.idle_s - self.warn_s
                if warn and not warned:
                    self._warn(call.turn.lang if call.turn else self.settings.default_language, call)
                elif warned and not warn:
                    self.screen.warning(None)
                warned = warn
        finally:
            if not call.ended:
                call.hang_up()
            call.close_recognizers()

    # -- helpers --------------------------------------------------------------------------------
    def _next(self) -> Event | None:
        try:
            event = self.events.get(timeout=POLL_S)
        except queue.Empty:
            event = None
        self._check_mic()
        return event

    def _words(self, event: Language | Command, lang: str) -> str | None:
        """What a language, "repeat" or "slower" button says to the agent for the customer."""
        if isinstance(event, Language):
            known = find_language(event.code)
            return known.name if known and event.code in self.settings.languages else None
        key = COMMANDS.get(event.what)
        return ui(lang)[key] if key else None

    def _play(self, pcm: bytes, rate: int) -> None:
        if not pcm:
            return
        try:
            self.speaker.play(pcm, rate)
        except Exception as exc:        # a speaker that fails must not end the call: captions go on
            log.warning("kiosk: could not play a reply: %s", exc)

    def _warn(self, lang: str, call: Any) -> None:
        text = ui(lang)["idle_warning"]
        self.screen.warning(text)
        try:
            self._play(*call.tts.render_pcm(text, lang))
        except Exception as exc:        # no voice: the warning is on the screen
            log.warning("kiosk: could not speak the idle warning: %s", exc)
        self.screen.speaking(self.speaker.playing)

    def _mic_notice(self, lang: str | None = None) -> str | None:
        """The screen's word that the microphone does not work (None while it does)."""
        if self.mic_error or self._mic_down:
            return ui(lang or self.screen.state["lang"])["mic_lost"]
        return None

    def _check_mic(self) -> None:
        """Say on the screen and in the log when the microphone stops delivering audio (and when
        it is back)."""
        if self.mic is None:
            return
        down = self.clock() - self.mic.last_audio_at > MIC_SILENT_S
        if down != self._mic_down:
            self._mic_down = down
            if down:
                log.warning("kiosk: the microphone has delivered no audio for %.0f s; the screen "
                            "and keypad still work", MIC_SILENT_S)
            else:
                log.info("kiosk: the microphone delivers audio again")
        self.screen.notice(self._mic_notice())
