"""What every call on the phone line shares, built once when ``serve`` starts.

One store (it serializes its own connection), one language understander, one ``Agent`` (a Session
per call), one speech renderer with its disk cache, and one Vosk model per language loaded up
front (about 2 s and 500 MB for Korean), so a call never waits for a model load. Each call gets
its own recognizer over the shared model, as Vosk requires.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("voice_agent.sip")


@dataclass
class PhoneServices:
    settings: Any
    store: Any
    nlu: Any
    agent: Any
    synth: Any
    models: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, settings, *, load_models: bool = True) -> "PhoneServices":
        from voice_agent.dialogue import Agent
        from voice_agent.nlu import Understander
        from voice_agent.store import Store
        from voice_agent.voice.tts import Synthesizer

        store = Store.open(settings)
        nlu = Understander(languages=tuple(settings.languages))
        services = cls(settings, store, nlu, Agent(settings, store, nlu), Synthesizer.from_settings(settings))
        if load_models:
            services.load_models()
        return services

    def load_models(self) -> dict[str, str]:
        """Load the speech model of every language that has one; returns lang -> path."""
        from voice_agent.voice.models import find_model
        from voice_agent.voice.models import load as load_model

        loaded = {}
        for lang in self.settings.languages:
            info = find_model(self.settings, lang)
            if info is None:
                log.warning("no speech model for %s: callers in that language can use the keypad", lang)
                continue
            self.models[lang] = load_model(info)
            loaded[lang] = str(info.path)
        return loaded

    def recognizer(self, lang: str, rate: int):
        """A new recognizer for one call, or None when ``lang`` has no speech model."""
        model = self.models.get(lang)
        if model is None:
            return None
        from voice_agent.voice.asr import Recognizer
        return Recognizer.from_settings(model, self.settings, rate, lang, self.nlu)

    def close(self) -> None:
        close = getattr(self.store, "close", None)
        if close:
            close()
