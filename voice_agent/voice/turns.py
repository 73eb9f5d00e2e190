"""One caller turn from audio and keys: the turn loop every audio front end uses.

The kiosk, the phone line, recorded turns (``voice-agent call``) and ``voice-agent transcribe``
differ only in where audio and keys come from; how a turn ends is decided here, once:

- keys come from in-band tones (``DtmfDetector``, fed the turn's audio) or are pushed in
  (``press``: RFC 4733 events, SIP INFO); an entry ends by the dialogue's keypad rules
  (``dialogue.keypad.entry_complete``: one key for a menu or a yes/no, else ``#``, ``*``, the
  longest entry, or a pause of ``key_pause_s``). Keys win over speech: tones are not speech.
- an entry that already is a whole, valid number (``voice.complete.keyed_complete``: a card
  number passing Luhn for its network, an account number of the account length, a full
  expiry) ends at once when no longer one could be valid, else after the short key pause
  ``audio.key_complete_pause_s``, so nobody has to press ``#`` or wait out the long pause;
  a ``#`` pressed out of habit within that pause after such an entry is dropped, not taken
  as the next question's (empty) entry.
- speech ends at the ``Endpointer``'s end of speech, with the short wait for short answers
  (``endpoint.end_silence_for``); it is handed to ``listen()``'s sink while the caller speaks,
  so the recognizer decodes as the words arrive and only its final step is left at the end.
  In a pause the sink is asked whether what it heard so far is a whole answer
  (``SpeechSink.complete``, judged by ``voice.complete.spoken_complete``): then the turn ends
  after ``audio.end_silence_complete_ms`` (``end_silence_request_ms`` for a request: semantic
  end of turn), else the wait goes on.
- nothing at all ends at the no-input timeout; while a prompt plays the no-input clock does not
  run (it is timed from the prompt's end), and a key or speech during a prompt is a barge-in,
  signalled to the front end (``on_barge_in``), which stops the playback.

Live audio is timed by the audio itself (the chunks fed), except the key pause when a front end
gives its own clock (the phone line: keys can arrive while no audio does). A recording has no
clock: ``recording=True`` takes a whole turn's file, where keys anywhere win over speech, the
first utterance is kept, and silence never times out; it keeps the full end-of-speech wait, since
ending sooner saves nothing in a file and would cut a pause inside an answer.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from voice_agent.dialogue.keypad import MAX_KEYS, PAUSE_S, entry_complete
from voice_agent.voice.complete import NOW, SOON, keyed_complete
from voice_agent.voice.dtmf import DtmfDetector
from voice_agent.voice.endpoint import (
    Endpointer,
    NoInput,
    Utterance,
    complete_silence,
    end_silence_for,
)

# While a prompt plays and nobody speaks, the no-input clock is restarted this often.
PROMPT_CLOCK_RESET_S = 1.0


@dataclass(frozen=True)
class Keys:
    """The caller keyed an entry (digits with ``#``/``*`` as pressed)."""

    keys: str


TurnEnd = Keys | Utterance | NoInput


class SpeechSink(Protocol):
    """Where an utterance's audio goes while it is spoken (``pipeline.LiveRecognition``)."""

    def feed(self, pcm: bytes) -> None: ...

    def cancel(self) -> None: ...

    def complete(self) -> bool:
        """Whether what was heard so far already is a whole answer (a sink that cannot tell
        leaves this out: the turn then ends by silence alone)."""
        ...


class TurnLoop:
    """Feed a call's audio (and keys) turn after turn; ``feed`` returns how a turn ended.

    One per call and rate: the tone detector lives as long as the call, so a key still sounding
    when its entry ends does not count again in the next turn. After a turn ends the loop is
    ready for the next one; ``start(expecting)`` says what the next question expects.
    """

    def __init__(self, audio: Mapping, rate: int, *, listen: Callable[[], SpeechSink] | None = None,
                 recording: bool = False, key_pause_s: float = PAUSE_S,
                 key_clock: Callable[[], float] | None = None,
                 on_barge_in: Callable[[str], None] | None = None) -> None:
        self.audio, self.rate, self.recording = audio, rate, recording
        self.listen, self.key_pause_s, self.key_clock = listen, key_pause_s, key_clock
        self.on_barge_in = on_barge_in or (lambda why: None)
        self.tones = DtmfDetector(rate)
        self.speech = Endpointer.from_settings(audio, rate=rate, on_speech=self._spoken)
        if recording:
            self.speech.no_input_timeout_s = float("inf")    # a recording has no clock to wait on
        else:
            self.speech.complete = self._heard_whole
        self.key_complete_pause_s = float(audio.get("key_complete_pause_s", key_pause_s))
        self._live: SpeechSink | None = None
        self._call_s, self._whole_at = 0.0, float("-inf")     # audio of the whole call, seconds
        self.start(None)

    # -- the front end's side ----------------------------------------------------------------
    def start(self, expecting: str | None) -> None:
        """A new turn, answering a question that expects ``expecting``."""
        self.expecting = expecting
        if not self.recording:
            self.speech.end_silence_ms = end_silence_for(self.audio, expecting)
            self.speech.complete_silence_ms = complete_silence(self.audio, expecting)
        self._begin()

    def press(self, keys: str) -> None:
        """Keys that arrived outside the audio (RFC 4733 events, SIP INFO); counted at the next
        ``feed``."""
        self._pushed += keys

    def typed(self, entry: str) -> Keys:
        """An entry typed on the kiosk's keyboard: Enter ended it, whatever the keypad rules."""
        self._begin()
        return Keys(entry)

    def feed(self, pcm: bytes, prompt_playing: bool = False) -> TurnEnd | None:
        """Add caller audio (``b""`` when none came: pushed keys and the key clock still count);
        return how the turn ended, or None while it goes on. In recording mode always None:
        ``finish`` says what the whole turn held."""
        self._audio_s += len(pcm) / (2 * self.rate)
        self._call_s += len(pcm) / (2 * self.rate)
        new = self._pushed + (self.tones.feed(pcm) if pcm else "")
        self._pushed = ""
        if new.startswith("#") and not self._keys \
                and self._clock() - self._whole_at <= self.key_complete_pause_s:
            new = new.lstrip("#")                  # the habitual "#" after a whole entry
            self.speech.reset()                    # its tone is not speech either
        if self.recording:
            self._keys += new
            if self._found is None and pcm:
                self._found = self.speech.feed(pcm)
            return None
        if new:
            if prompt_playing:
                self.on_barge_in("key")
            self._keys = (self._keys + new)[:MAX_KEYS]
            self._key_at = self._now()
            self.speech.reset()                              # tones are not speech
            self._drop_speech()
        if self._keys:
            paused = self._now() - self._key_at
            if entry_complete(self.expecting, self._keys, paused, self.key_pause_s):
                return self._end(Keys(self._keys))
            if new:
                self._whole = keyed_complete(self.expecting, self._keys, self.audio)
            if self._whole == NOW or self._whole == SOON and paused >= self.key_complete_pause_s:
                self._whole_at = self._clock()
                return self._end(Keys(self._keys))
            return None
        if not pcm or self.tones.tone_on:
            return None
        if (prompt_playing and not self.speech.in_speech
                and self.speech.elapsed_s > PROMPT_CLOCK_RESET_S):
            self.speech.reset()                  # no-input is timed from the prompt's end
        found = self.speech.feed(pcm)
        if prompt_playing and (self.speech.in_speech or isinstance(found, Utterance)):
            self.on_barge_in("speech")
        return self._end(found) if found is not None else None

    def finish(self) -> TurnEnd:
        """The recorded turn is over: its keys, else its first utterance, else no input."""
        keys = self._keys + self._pushed + self.tones.finish()
        found = self._found if self._found is not None else self.speech.finish()
        return self._end(Keys(keys) if keys else found)

    def hear(self, chunks: Iterable[bytes]) -> TurnEnd:
        """A whole recorded turn, given chunk by chunk (memory holds a chunk and at most one
        utterance, however long the recording is)."""
        for chunk in chunks:
            self.feed(chunk)
        return self.finish()

    # -- inside --------------------------------------------------------------------------------
    def _now(self) -> float:
        return self.key_clock() if self.key_clock is not None else self._audio_s

    def _clock(self) -> float:
        """Time across turns (the front end's clock, else the call's audio)."""
        return self.key_clock() if self.key_clock is not None else self._call_s

    def _spoken(self, pcm: bytes) -> None:
        if self.listen is None:
            return
        if self._live is None:
            self._live = self.listen()
        self._live.feed(pcm)

    def _heard_whole(self) -> bool:
        complete = getattr(self._live, "complete", None)
        return bool(complete is not None and complete())

    def _drop_speech(self) -> None:
        if self._live is not None:
            self._live.cancel()
            self._live = None

    def _begin(self) -> None:
        self._drop_speech()
        self.speech.reset()
        self._keys, self._pushed, self._whole = "", "", ""
        self._audio_s, self._key_at = 0.0, 0.0
        self._found: Utterance | NoInput | None = None

    def _end(self, end: TurnEnd) -> TurnEnd:
        """The turn is over; the loop is ready for the next one (same question until ``start``).
        An utterance's sink is left for the front end to finish; anything else drops it."""
        if isinstance(end, Utterance):
            self._live = None
        self._begin()
        return end
