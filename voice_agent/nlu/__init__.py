"""Language understanding: caller words (as Vosk writes them) to intents and values.

    from voice_agent.nlu import Understander, Understanding, INTENTS, KINDS
    nlu = Understander(languages=("en", "es", "ko"))
    nlu.understand("i want to pay fifty dollars", "en")

Modules, in the order a sentence passes through them: text (normalise), numbers (spoken numbers),
values / dates (one parser per value kind), templates + intents (tiered intent matching),
choices (closed lists), grammar (Vosk grammars), understander (the facade).
"""
from voice_agent.nlu.intents import IntentMatch
from voice_agent.nlu.locale import LocaleError
from voice_agent.nlu.models import COMMAND_INTENTS, INTENTS, KINDS, Understanding
from voice_agent.nlu.understander import Understander

__all__ = ["Understander", "Understanding", "INTENTS", "KINDS", "COMMAND_INTENTS",
           "IntentMatch", "LocaleError"]
