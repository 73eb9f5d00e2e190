"""The one object the dialogue and the CLI use: intents and values for every loaded language."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from voice_agent.nlu import choices as choice_lists
from voice_agent.nlu.dates import parse_date, parse_expiry
from voice_agent.nlu.grammar import grammar_phrases, kind_phrases
from voice_agent.nlu.intents import IntentIndex, IntentMatch
from voice_agent.nlu.locale import LocaleData
from voice_agent.nlu.models import COMMAND_INTENTS, KINDS, Understanding, kind_for
from voice_agent.nlu.text import tokens
from voice_agent.nlu.values import (
    CORRECTABLE_KINDS,
    after_corrections,
    find_phrases,
    first_correction,
    is_loose,
    parse_amount,
    parse_digits,
    parse_language,
    parse_number,
    parse_yes_no,
)

# A command this sure wins over a value found in passing ("say it one more time" at the PIN step).
COMMAND_CONFIDENCE = 0.9
# Intents whose sentences may carry an amount without a currency word ("pay fifty").
AMOUNT_INTENTS = {"pay_bill", "schedule_payment", "payment_arrangement"}
# A number that makes up this little of a request at a digits step was said in passing ("me
# llegó un mensaje pidiendo mi tarjeta"): the request is reported, not the digit.
PASSING_COVERAGE = 0.6
# Values said with the words that name them ("the pin is ..."): taken out to find the request.
NAMED_VALUES = {"account_number", "pin"}
# Intents whose sentences may carry a date ("pay on friday"); elsewhere "now" is not a date.
# An ambiguous utterance (intent None) keeps its values too: the dialogue asks which was meant.
DATE_INTENTS = {"pay_bill", "schedule_payment", "payment_arrangement", "restore_service"}


def _a_word_for_one(run: list) -> bool:
    """"quiero programar un pago", "make one payment": a lone small number with no money word
    is an article or a count, not an amount."""
    return len(run) == 1 and run[0].value < 10


def _digit_string_apart(run: list) -> list[list]:
    """"팔 육 사 이 오십 달러": a number said digit by digit (a PIN, an account number) and a
    whole number right after it (the amount) are two values, not one run of digits."""
    for i, chunk in enumerate(run):
        if i >= 2 and chunk.value >= 10 and len(set(chunk.digits)) > 1 \
                and all(len(c.digits) == 1 for c in run[:i]):
            return [run[:i], run[i:]]
    return [run]


class Understander:
    """Loads locales/<lang>/ once per language; every method is then a pure function of text."""

    def __init__(self, languages: tuple[str, ...] | list[str] = ("en", "es", "ko"),
                 locales_dir: Path | str | None = None):
        base = Path(locales_dir) if locales_dir else None
        self.languages = tuple(languages)
        self._data = {code: LocaleData.load(code, base) for code in self.languages}
        self._index = {code: IntentIndex(ld) for code, ld in self._data.items()}
        self._names: dict[tuple[str, ...], str] = {}
        self._name_phrases: list[str] = []
        # Read once: a turn asks for choice lists and grammars many times (a TOML parse each
        # was half of a grammar turn's processing, scripts/bench.py "recognition").
        self._choices: dict[tuple[str, str], dict[str, list[str]]] = {}
        self._grammars: dict[tuple[str, str | None, bool], tuple[str, ...]] = {}
        for ld in self._data.values():
            for phrase, code in ld.languages.items():
                if code in self._data:
                    self._names.setdefault(phrase, code)
            for code, names in ld.values.get("languages", {}).items():
                if code in self._data:
                    self._name_phrases.extend(names)

    def locale(self, lang: str) -> LocaleData:
        try:
            return self._data[lang]
        except KeyError:
            raise ValueError(f"language {lang!r} is not loaded (loaded: "
                             f"{', '.join(self.languages)})") from None

    def words(self, text: str, lang: str, corrections: bool = False) -> list[str]:
        """Canonical words of ``text`` with fillers and politeness removed (but with
        ``corrections`` not the correction markers: "i mean" and "digo" are fillers too)."""
        return self.locale(lang).without_fillers(tokens(text or ""), corrections)

    # -- intents --------------------------------------------------------------------------------
    def match_intent(self, text: str, lang: str) -> IntentMatch:
        return self._index[self.locale(lang).code].match(self.words(text, lang))

    def whole_request(self, text: str, lang: str) -> str | None:
        """The intent of ``text`` when it already is a whole request (``IntentIndex.whole``)."""
        return self._index[self.locale(lang).code].whole(self.words(text, lang))

    def understand(self, text: str, lang: str, expect: str | None = None,
                   today: dt.date | None = None, *, parsed: bool = False,
                   value: Any = None) -> Understanding:
        """Intent and value of one utterance; see ARCHITECTURE.md "Language understanding".

        With ``expect`` (a KIND or the dialogue's ``expecting``) the value of that kind is parsed;
        when none is found the intent is still reported, so "repeat that" or "cancel" at the PIN
        step reach the dialogue. Without it, values said along with the intent are returned.
        ``parsed``: recognition already parsed this text as that kind and found ``value`` (None:
        nothing of the kind); it is used as is, not parsed again.
        """
        ld = self.locale(lang)
        words = self.words(text, lang)
        if not words:
            return Understanding(text, None, 0.0, expect, None)
        match = self._index[lang].match(words)
        kind = kind_for(expect)
        if kind is None:
            marked = self.words(text, lang, corrections=True)
            day = today or dt.date.today()
            values, rest = self._mixed(marked, ld, day, match.intent)
            if match.intent in (None, "out_of_scope") and values.keys() & NAMED_VALUES:
                # "i wanna pay forty five dollars, the account number is ... and the pin is
                # ...": the request is what is left once the account number and PIN (with the
                # words that named them) are taken out; they would drown it.
                again = self._index[lang].match(rest)
                if again.intent not in (None, "out_of_scope"):
                    match = again
                    values, _ = self._mixed(marked, ld, day, match.intent)
            if match.intent == "out_of_scope":
                return Understanding(text, match.intent, match.confidence, expect, None,
                                     match.intent)
            return Understanding(text, match.intent, match.confidence, expect, values or None,
                                 match.intent)
        corrected = False
        if not parsed:
            value, corrected = self._parse_corrected(kind, words, self.words(text, lang, True),
                                                     ld, today or dt.date.today())
        if value is None and kind == "yes_no" and match.intent in ("affirm", "deny"):
            value = "yes" if match.intent == "affirm" else "no"
        coverage = self._coverage(kind, words, ld) if value is not None else 0.0
        if value is not None and match.intent in COMMAND_INTENTS \
                and match.confidence >= COMMAND_CONFIDENCE and coverage < 1.0 and not corrected:
            value = None   # "one more time" at the PIN step is a request, not the digit 1
        if value is not None and kind == "digits" and coverage < PASSING_COVERAGE \
                and match.intent not in (None, "out_of_scope"):
            value = None   # "un mensaje pidiendo mi tarjeta": an article, not the digit 1
        if value is None:
            return Understanding(text, match.intent, match.confidence, expect, None,
                                 match.intent)
        intent = None
        if kind == "yes_no":
            intent = "affirm" if value == "yes" else "deny"
        return Understanding(text, intent, coverage, expect, value, match.intent)

    # -- values ---------------------------------------------------------------------------------
    def only_number(self, text: str, lang: str) -> bool:
        """Nothing but a number was said ("fifty", "1 2 3"): a value with no request in it."""
        ld = self.locale(lang)
        split = ld.numbers.split(self.words(text, lang))
        return bool(split) and all(ld.numbers.is_number_word(w) or w.isdigit()
                                   or w in ld.numbers.connectors for w in split)

    def corrected_words(self, text: str, lang: str) -> str | None:
        """The words said after the last correction marker ("mejor cuarenta dólares": "cuarenta
        dólares"), or None when the caller corrected nothing."""
        ld = self.locale(lang)
        tail = after_corrections(self.words(text, lang, corrections=True), ld)
        return " ".join(tail) if tail else None

    def request_words(self, text: str, lang: str) -> str:
        """The words of a request once an account number or PIN said in it, and the words that
        named it, are taken out: "계좌 번호 ..." names no bank account to pay from."""
        ld = self.locale(lang)
        return " ".join(self._mixed(self.words(text, lang, corrections=True), ld,
                                    dt.date.today(), None)[1])

    def parse_value(self, kind: str, text: str, lang: str, today: dt.date | None = None) -> Any:
        """The value of ``kind`` (or of a dialogue ``expecting``) said in ``text``, or None."""
        resolved = kind_for(kind)
        if resolved is None:
            raise ValueError(f"unknown value kind {kind!r} (kinds: {', '.join(KINDS)})")
        ld = self.locale(lang)
        return self._parse_corrected(resolved, self.words(text, lang),
                                     self.words(text, lang, corrections=True), ld,
                                     today or dt.date.today())[0]

    def _parse_corrected(self, kind: str, words: list[str], marked: list[str], ld: LocaleData,
                         today: dt.date) -> tuple[Any, bool]:
        """(value, corrected): the value said after the last correction marker (found in
        ``marked``, the words with the markers kept) when there is one ("tres no mejor dos
        pagos" is 2, corrected), else the value of all the ``words``."""
        tail = after_corrections(marked, ld) if kind in CORRECTABLE_KINDS else None
        if tail:
            value = self._parse(kind, tail, ld, today)
            if value is not None:
                return value, True
        return self._parse(kind, words, ld, today), False

    def _parse(self, kind: str, words: list[str], ld: LocaleData, today: dt.date) -> Any:
        if not words:
            return None
        if kind == "digits":
            return parse_digits(words, ld)
        if kind == "amount":
            return parse_amount(words, ld)
        if kind == "number":
            return parse_number(words, ld)
        if kind == "yes_no":
            return parse_yes_no(words, ld)
        if kind == "language":
            return parse_language(words, ld, self._names)
        if kind == "date":
            return parse_date(words, ld, today)
        if kind == "expiry":
            return parse_expiry(words, ld)
        raise ValueError(f"unknown value kind {kind!r}")

    def _coverage(self, kind: str, words: list[str], ld: LocaleData) -> float:
        """0.5..1: how much of what was said is made of words that answer this kind."""
        vocab = {w for p in kind_phrases(ld, kind, self._name_phrases) for w in tokens(p)}
        split = ld.numbers.split(words)
        known = sum(1 for w in split if w in vocab or w.replace(".", "").isdigit()
                    or (is_loose(ld) and any(w.startswith(v) for v in vocab if len(v) >= 2)))
        return round(0.5 + 0.5 * known / len(split), 3) if split else 0.0

    def mixed_values(self, words: list[str], ld: LocaleData, today: dt.date,
                     intent: str | None) -> dict[str, Any]:
        """Values said along with an intent: "pay fifty dollars on account one two three four".
        After a correction marker the values said again replace the earlier ones."""
        return self._mixed(words, ld, today, intent)[0]

    def _mixed(self, words: list[str], ld: LocaleData, today: dt.date, intent: str | None
               ) -> tuple[dict[str, Any], list[str]]:
        """(values, the words left): `mixed_values`, and the words once an account number or
        PIN and the words that named it ("the pin is") are taken out, for finding the request."""
        marker = first_correction(words, ld)
        if marker is not None:
            before, rest = self._mixed(words[:marker[0]], ld, today, intent)
            after, rest_after = self._mixed(words[marker[1]:], ld, today, intent)
            return {**before, **after}, rest + rest_after
        nw = ld.numbers
        split = nw.split(words)
        chunks = nw.chunks(split)
        values: dict[str, Any] = {}
        if not chunks:
            date = parse_date(split, ld, today) if intent in DATE_INTENTS | {None} else None
            return ({"date": date} if date else {}), words
        runs: list[list] = []
        for chunk in chunks:
            gap = split[runs[-1][-1].end:chunk.start] if runs else None
            if runs and all(w in nw.connectors for w in gap):
                runs[-1].append(chunk)
            else:
                runs.append([chunk])
        runs = [part for run in runs for part in _digit_string_apart(run)]
        money = [p for p in (*ld.currency_major, *ld.currency_minor, *ld.decimal_point)]
        cues = ld.slot_cues.get("account_number", [])
        pin_cues = ld.slot_cues.get("pin", [])
        used: set[int] = set()
        named: set[int] = set()    # an account number or PIN and the words that named it
        for run in runs:
            start, end = run[0].start, run[-1].end
            after = split[end:end + 2]
            window = max(0, start - 3)
            before = split[window:start]
            pin_cue = find_phrases(before, pin_cues, is_loose(ld))
            account_cue = find_phrases(before, cues, is_loose(ld))
            if pin_cue and "pin" not in values:
                # "my pin is four three two one": verification uses it without asking
                values["pin"] = "".join(c.digits for c in run)
                named.update(range(window + pin_cue[0][0], end))
            elif account_cue and "account_number" not in values:
                values["account_number"] = "".join(c.digits for c in run)
                named.update(range(window + account_cue[0][0], end))
            elif (find_phrases(after, money, is_loose(ld)) or (
                    intent in AMOUNT_INTENTS | {None} and not _a_word_for_one(run))) \
                    and "amount" not in values:
                end = self._amount_end(split, start, ld)
                amount = parse_amount(split[start:end], ld)
                if amount is None:
                    continue
                values["amount"] = amount
            else:
                continue
            used.update(range(start, end))
        rest = [w for i, w in enumerate(split) if i not in used]
        date = parse_date(rest, ld, today) if rest and intent in DATE_INTENTS | {None} else None
        if date:
            values["date"] = date
        return values, [w for i, w in enumerate(split) if i not in named]

    @staticmethod
    def _amount_end(split: list[str], start: int, ld: LocaleData) -> int:
        """Where a spoken amount starting at ``start`` ends: "twenty dollars and fifty cents"."""
        money = {w for p in (*ld.currency_major, *ld.currency_minor, *ld.decimal_point)
                 for w in p}
        joiners = set(ld.numbers.connectors) | {
            w for p in ld.values.get("money", {}).get("joiners", []) for w in tokens(p)}
        end = start
        while end < len(split) and (ld.numbers.is_number_word(split[end]) or split[end] in money
                                    or (split[end] in joiners and end + 1 < len(split)
                                        and ld.numbers.is_number_word(split[end + 1]))):
            end += 1
        return end

    # -- choices and grammars -------------------------------------------------------------------
    def choices(self, lang: str, name: str) -> dict[str, list[str]]:
        """Choice list ``name`` (read from the locale files once; do not change it)."""
        key = (lang, name)
        if key not in self._choices:
            self._choices[key] = choice_lists.load_choices(self.locale(lang).directory, name)
        return self._choices[key]

    def match_choice(self, text: str, lang: str, choices: dict[str, list[str]]
                     ) -> tuple[str | None, float]:
        """The choice named in ``text``; after a correction marker ("card, no wait, bank
        account") the choice named last wins."""
        ld = self.locale(lang)
        tail = after_corrections(self.words(text, lang, corrections=True), ld)
        for said in ([" ".join(tail)] if tail else []) + [text]:
            key, score = choice_lists.match_choice(said, choices, ld.fillers, ld.keep,
                                                   char_mode=ld.match_units == "char_bigrams")
            if key is not None or said == text:
                return key, score
        return None, 0.0

    def grammar_phrases(self, lang: str, expect: str | None, answers_only: bool = False
                        ) -> list[str]:
        """What a recogniser held to a grammar must hear while ``expect``: the answers, and what
        the dialogue understands at every step (dialogue/repair.py's phrase lists: going back,
        questions on the way; closings at the menu), from the locale data."""
        ld = self.locale(lang)
        back = self.choices(lang, "conv_go_back").get("back", [])
        questions = self.choices(lang, "conv_question")
        asides = [p for key in ("start", "anywhere", "lead") for p in questions.get(key, [])]
        asides += [p for phrases in self.choices(lang, "conv_topic").values() for p in phrases]
        key = (lang, expect, answers_only)
        if key not in self._grammars:
            closings = [p for phrases in self.choices(lang, "conv_closing").values()
                        for p in phrases]
            self._grammars[key] = tuple(grammar_phrases(
                ld, expect, list(dict.fromkeys(self._name_phrases)),
                self.choices(lang, "payment_method"), anywhere=back, asides=asides,
                closings=closings, answers_only=answers_only))
        return list(self._grammars[key])
