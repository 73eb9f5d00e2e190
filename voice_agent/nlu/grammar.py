"""Phrases a Vosk grammar should allow while the dialogue expects a given answer.

Vosk compiles the list into a small bigram model; keeping it to the expected answer's words
(plus the commands a caller may say at any step) makes recognition far more accurate. An empty
list means "use the open vocabulary" (free-form answers such as a dispute reason).
"""
from __future__ import annotations

from voice_agent.nlu.intents import SLOT
from voice_agent.nlu.locale import LocaleData
from voice_agent.nlu.models import kind_for
from voice_agent.nlu.templates import expand
from voice_agent.nlu.values import CORRECTABLE_KINDS

COMMANDS = ("repeat", "help", "cancel", "agent", "goodbye", "slower")
OPEN_ANSWERS = {"dispute_reason", "charge", "none"}
SLOT_KINDS = {"amount": "amount", "date": "date", "digits": "digits"}


def _sentences(ld: LocaleData, intents) -> list[str]:
    out: list[str] = []
    for intent in intents:
        for template in ld.intents.get(intent, []):
            for sentence in expand(template):
                plain = " ".join(SLOT.sub(" ", sentence).split())
                if plain:
                    out.append(plain)
    return out


def _keys(table) -> list[str]:
    return [str(k) for k in (table or {})]


def _listed(table) -> list[str]:
    """Words of a {code: [names]} or {name: value} table."""
    out: list[str] = []
    for key, val in (table or {}).items():
        out.extend(str(v) for v in val) if isinstance(val, list) else out.append(str(key))
    return out


def number_words(ld: LocaleData, digits_only: bool = False) -> list[str]:
    raw = ld.numbers_raw
    words = [*_keys(raw.get("zeros")), *_keys(raw.get("homophones")),
             *_keys(raw.get("repeaters")), *_keys(raw.get("multipliers")),
             *_keys(raw.get("cardinals"))]
    if not digits_only:
        words += [*_keys(raw.get("articles")), *raw.get("connectors", [])]
    return words


def kind_phrases(ld: LocaleData, kind: str, language_names: list[str], sentences: bool = True
                 ) -> list[str]:
    """The words of a value of ``kind``; ``sentences``: also the intents' sentences that give
    one ("yes, that's right", "switch to Spanish")."""
    values, money, date = ld.values, ld.values.get("money", {}), ld.values.get("date", {})
    if kind == "digits":
        return number_words(ld, digits_only=True)
    if kind in ("amount", "number"):
        extra = [*money.get("major", []), *money.get("minor", []), *money.get("point", []),
                 *money.get("joiners", [])] if kind == "amount" else values.get("count_words", [])
        return number_words(ld) + extra
    if kind == "expiry":
        return number_words(ld) + _keys(values.get("months")) + date.get("split_pieces", [])
    if kind == "date":
        return (number_words(ld) + _keys(ld.numbers_raw.get("ordinals"))
                + _keys(values.get("months")) + _keys(values.get("weekdays"))
                + _keys(values.get("relative_days")) + _keys(date.get("units"))
                + date.get("next_week", []) + date.get("this_week", [])
                + date.get("next_week_after", []) + date.get("day_articles", [])
                + date.get("in_words", []) + date.get("after_words", [])
                + date.get("split_pieces", []))
    if kind == "yes_no":
        yes_no = values.get("yes_no", {})
        words = [*yes_no.get("yes", []), *yes_no.get("no", [])]
        return words + _sentences(ld, ("affirm", "deny")) if sentences else words
    if kind == "language":
        return language_names + (_sentences(ld, ("change_language",)) if sentences else [])
    return []


def _corrections(ld: LocaleData) -> list[str]:
    return [str(p) for p in ld.values.get("corrections", {}).get("markers", [])]


def _split_endings(phrase: str, ld: LocaleData) -> str:
    """"네 맞아요" -> "네 맞 아요": the form a recogniser with morpheme words (the Korean Vosk
    model) has in its vocabulary; understanding glues the endings back on."""
    endings = sorted(ld.rejoin, key=len, reverse=True)
    out = []
    for word in phrase.split():
        ending = next((e for e in endings if word.endswith(e) and len(word) > len(e)), None)
        out.extend([word[: -len(ending)], ending] if ending else [word])
    return " ".join(out)


def grammar_phrases(ld: LocaleData, expect: str | None, language_names: list[str],
                    methods: dict[str, list[str]] | None = None, anywhere: list[str] = (),
                    asides: list[str] = (), closings: list[str] = (), answers_only: bool = False
                    ) -> list[str]:
    """The phrases for ``expect``, the commands, ``anywhere`` (what may be said at every step
    besides them: "go back"), ``asides`` at every step but the menus (questions on the way: "when
    is that due?", dialogue/repair.py) and ``closings`` at the menu ("no that's all, thanks").
    ``methods`` (the payment method choices) answer the method question and, with amounts and
    correction words, may change a read-back at a yes/no step ("no, make it sixty", "actually
    use my bank account").

    ``answers_only``: the step's own answers, no commands and nothing said on the way. This is
    the grammar a recogniser decodes with first: every phrase added to a Vosk grammar is a
    sound that short answers can be mistaken for (measured in scripts/bench_accuracy.py), so the
    rest is heard by a second decode with the whole list, only when the first one is unsure
    (voice/asr.py)."""
    if expect is None or expect in OPEN_ANSWERS:
        return []
    method_words = [p for key, names in (methods or {}).items() for p in (names or [key])]
    if expect == "intent":
        phrases = _sentences(ld, list(ld.intents))
        # values said along with an intent ("pay fifty dollars on friday") need their words too
        slots = {m.group(0)[1:-1] for ts in ld.intents.values() for t in ts
                 for m in SLOT.finditer(t)}
        for slot in sorted(slots):
            kind = SLOT_KINDS.get(slot) or kind_for(slot)
            if kind:
                phrases += kind_phrases(ld, kind, language_names)
        # keyphrases name intents in words the examples may lack ("overcharged", "venmo");
        # a "word*" prefix is no word to recognise
        phrases += [k.text for k in ld.keyphrases if "*" not in k.text]
        # "... and my pin is 4 3 2 1", "forty dollars, no, fifty": cues and corrections. The
        # request is answered in sentences anyway: one grammar for all of it (a second decode
        # with nearly the same words would hear nothing new).
        phrases += _listed(ld.values.get("slot_cues")) + _corrections(ld) + list(closings)
        answers_only = False
    elif expect == "payment_method":
        if not method_words:
            return []
        phrases = list(method_words)
        if not answers_only:
            phrases += _corrections(ld) + list(asides)   # "card, no wait, bank"
    else:
        kind = kind_for(expect)
        if kind is None:
            return []
        phrases = kind_phrases(ld, kind, language_names, sentences=not answers_only)
        if not answers_only:
            if kind == "yes_no":        # a read-back changed: "no, make it sixty twenty five"
                # less the words a recogniser takes a plain yes or no for (locale data, measured)
                confusable = set(ld.values.get("yes_no", {}).get("sounds_like", []))
                phrases += [p for p in (*asides, *kind_phrases(ld, "amount", language_names),
                                        *method_words, *_corrections(ld)) if p not in confusable]
            elif expect != "language":  # the language menu routes, it answers no questions
                phrases += list(asides)
            if kind in CORRECTABLE_KINDS:   # "forty dollars scratch that fifty"
                phrases += _corrections(ld)
    if not answers_only:
        phrases += _sentences(ld, COMMANDS) + list(anywhere)
    if ld.rejoin:
        phrases += [split for p in phrases if (split := _split_endings(p, ld)) != p]
    seen: set[str] = set()
    out = []
    for phrase in phrases:
        phrase = " ".join(phrase.lower().split())
        if phrase and phrase not in seen:
            seen.add(phrase)
            out.append(phrase)
    return out
