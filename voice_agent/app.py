"""The composition root: what a running agent is made of, built in one place.

Every front end gets its parts from ``build(settings)``: `chat` (typed calls), `call` (recorded
turns), `run` and `demo` (the kiosk and the recorded demo call), `serve --sip` (the phone line)
and the benchmarks. So the store, language understanding and the dialogue are wired the same way
everywhere, and a front end only moves text, audio and keys:

    services = build(settings)                    # store (existing, migrated), NLU, Agent
    call = services.voice_call(channel="phone")   # one VoiceCall per caller
    ...
    services.close()

Speech parts are made on first use (the speech renderer) or on request (``load_models``: the
phone line loads every language's Vosk model before the first call, about 2 s and 500 MB for
Korean), so `chat` never imports an audio library.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:                                       # pragma: no cover
    from voice_agent.dialogue import Agent
    from voice_agent.nlu import Understander
    from voice_agent.settings import Settings
    from voice_agent.store import Store
    from voice_agent.voice.pipeline import VoiceCall

log = logging.getLogger("voice_agent")


@dataclass
class Services:
    """What all calls of one process share: one store (it serialises its own connection), one
    language understander, one Agent (a Session per call), one speech renderer with its disk
    cache and one Vosk model per language. Each call gets its own recognizers over the shared
    models, as Vosk requires."""

    settings: Settings
    store: Store
    nlu: Understander
    agent: Agent
    models: dict[str, Any] = field(default_factory=dict)
    _synth: Any = field(default=None, repr=False)

    @property
    def synth(self):
        """The speech renderer (espeak-ng), made on first use."""
        if self._synth is None:
            from voice_agent.voice.tts import Synthesizer
            self._synth = Synthesizer.from_settings(self.settings)
        return self._synth

    @synth.setter
    def synth(self, synthesizer) -> None:
        self._synth = synthesizer

    def load_models(self, langs=None) -> dict[str, str]:
        """Load the speech model of every language (or of ``langs``) that has one, now rather
        than when the first caller speaks; returns lang -> path. A configured model that cannot
        be used raises ``voice.models.ModelError`` (one line naming it)."""
        from voice_agent.voice.models import find_model
        from voice_agent.voice.models import load as load_model
        loaded = {}
        for lang in langs or self.settings.languages:
            info = find_model(self.settings, lang)
            if info is None:
                log.warning("no speech model for %s: callers in that language can use the keypad",
                            lang)
                continue
            self.models[lang] = load_model(info)
            loaded[lang] = str(info.path)
        return loaded

    def recognizer(self, lang: str, rate: int, today=None):
        """A new recognizer for one call over the shared model of ``lang``, or None when the
        language has no speech model (the caller can still use the keypad). ``today`` is the
        call's day, for dates the caller says ("next friday")."""
        model = self.models.get(lang)
        if model is None:
            from voice_agent.voice.models import find_model
            from voice_agent.voice.models import load as load_model
            info = find_model(self.settings, lang)
            if info is None:
                return None
            model = self.models[lang] = load_model(info)      # cached per process
        from voice_agent.voice.asr import Recognizer
        return Recognizer.from_settings(model, self.settings, rate, lang, self.nlu, today=today)

    def voice_call(self, *, lang: str | None = None, today=None, caller_id: str | None = None,
                   channel: str = "voice") -> VoiceCall:
        """One voiced call over these services (recognizers from ``recognizer``)."""
        from voice_agent.voice.pipeline import VoiceCall

        def recognizer(lang: str, rate: int):
            return self.recognizer(lang, rate, today=today)
        return VoiceCall(self.agent, self.settings, self.nlu, synthesizer=self.synth, lang=lang,
                         today=today, caller_id=caller_id, channel=channel,
                         recognizer_factory=recognizer)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def build(settings: Settings, *, create: bool = False, load_models: bool = False,
          nlu: Understander | None = None) -> Services:
    """Open the store (migrated; created only with ``create``: a front end given a mistyped
    database path refuses it rather than take calls into a new empty store), load the languages'
    understanding data (or take ``nlu``, already loaded: the phone line's forked workers share
    their supervisor's, seconds of start-up saved) and make the Agent; with ``load_models``,
    every language's speech model too."""
    from voice_agent.dialogue import Agent
    from voice_agent.nlu import Understander
    from voice_agent.store import Store

    store = Store.open(settings, create=create)          # first: a refused database fails fast
    try:
        nlu = nlu or Understander(languages=tuple(settings.languages))
        services = Services(settings, store, nlu, Agent(settings, store, nlu))
    except BaseException:
        store.close()
        raise
    if load_models:
        try:
            services.load_models()
        except BaseException:
            services.close()
            raise
    return services
