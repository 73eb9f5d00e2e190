"""What the kiosk screen shows, built on the server from the call: the page only draws it.

Everything a customer enters is masked here, before it leaves the process (the page never holds
a secret, so neither can its DOM, a screenshot or the browser's memory): a keyed entry of a
secret kind is dots while it is typed, a finished entry or a recognised answer is what
``Exchange.shown`` (``redact.redact_entry``) allows, at most the last four of a card number, and
the agent's words pass ``mask_card_numbers`` as the call record does.

The choices offered as buttons are read from the words the agent would say to offer them on the
keypad (the step's keypad prompt), sentence by sentence: a sentence (or, in a list, a clause)
that names exactly one key is that key's button, in every language without a table per
question. A yes/no question has Yes and No buttons (keys 1 and 2, the keypad rule everywhere).
"""
from __future__ import annotations

import datetime as dt
import re
import threading
import tomllib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from voice_agent.expect import expectation
from voice_agent.languages import find_language
from voice_agent.redact import mask_card_numbers

UI_FILE = Path(__file__).with_name("ui.toml")
DOT = "•"
MAX_CAPTIONS = 8
# A key named alone: "press 1", "1번", not a digit of "$2.50", "12/28" or "10".
_KEY = re.compile(r"(?<![\d.,$/:])\d(?![\d]|[.,/:]\d)")
_SENTENCE = re.compile(r"(?<=[.!?;:。])\s+")
_CLAUSE = re.compile(r"(?<=[,、，])\s*")


@cache
def ui_strings() -> dict[str, dict[str, str]]:
    with open(UI_FILE, "rb") as f:
        return tomllib.load(f)


def ui(lang: str) -> dict[str, str]:
    """The screen's own words in ``lang`` (English for a language the file does not have)."""
    table = ui_strings()
    return {**table["en"], **table.get(lang, {})}


def language_buttons(languages: tuple[str, ...]) -> list[dict[str, str]]:
    """Each enabled language by its own name."""
    out = []
    for code in languages:
        known = find_language(code)
        out.append({"code": code, "name": known.name if known else code})
    return out


def keyed_choices(text: str) -> list[dict[str, str]]:
    """(key, words, the keys its button sends) for each key the text offers: a sentence naming
    one key, else each clause of a list that names one ("press 1 for your balance, 2 to ...")."""
    found: dict[str, str] = {}
    for sentence in _SENTENCE.split(text):
        keys = _KEY.findall(sentence)
        if len(keys) == 1:
            found.setdefault(keys[0], sentence.strip())
        elif len(keys) > 1:
            for clause in _CLAUSE.split(sentence):
                if len(_KEY.findall(clause)) == 1:
                    found.setdefault(_KEY.findall(clause)[0], clause.strip(" ,"))
    return [{"key": key, "label": label, "keys": key} for key, label in found.items()]


def entry_shown(keys: str, expecting: str | None) -> str:
    """Keys being typed as the screen shows them: dots for a secret kind (none of a card number
    while it is typed: its last four would move along it), the keys otherwise."""
    if expectation(expecting).is_secret:
        return DOT * sum(ch.isdigit() for ch in keys)
    return keys


def qr_svg(code: str, day: dt.date) -> str:
    """A QR code of the confirmation code and the date only (no account data), as an SVG data URI."""
    import segno
    return segno.make(f"{code} {day.isoformat()}", error="m").svg_data_uri(scale=8, border=2)


class Screen:
    """The state of the kiosk screen, replaced whole on every change and handed to the
    listeners (the page's live-update streams). Thread-safe: the call runs in its own thread."""

    def __init__(self, languages: tuple[str, ...], default_language: str) -> None:
        self.languages, self.default_language = languages, default_language
        self._lock = threading.Lock()
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        self.version = 0
        self.state: dict[str, Any] = {}
        self.welcome()

    # -- listeners ----------------------------------------------------------------------------
    def listen(self, listener: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Add a listener; returns the state now (what a new page draws first)."""
        with self._lock:
            self._listeners.append(listener)
            return self.state

    def unlisten(self, listener: Callable[[dict[str, Any]], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _publish(self, state: dict[str, Any]) -> None:
        with self._lock:
            self.version += 1
            state["version"] = self.version
            self.state = state
            listeners = list(self._listeners)
        for listener in listeners:
            listener(state)

    def _update(self, **changes: Any) -> None:
        self._publish({**self.state, **changes})

    # -- what the session says ------------------------------------------------------------------
    def welcome(self, notice: str | None = None) -> None:
        """The page between customers: nothing of a call, the default language (a page that
        showed a call reloads itself on it: nothing of the call stays in its memory)."""
        lang = self.default_language
        self._publish({"phase": "welcome", "lang": lang,
                       "ui": ui(lang), "languages": language_buttons(self.languages),
                       "captions": [], "question": None, "entry": "", "facts": [],
                       "code": None, "warning": None, "notice": notice, "speaking": False})

    def begin_call(self) -> None:
        self._update(phase="call")

    def exchange(self, ex, call, speaking: bool = False) -> None:
        """An agent turn and the caller turn it answered (``speaking``: its reply is playing)."""
        turn = ex.turn
        captions = list(self.state["captions"])
        if ex.heard is not None:
            heard = ex.heard
            if heard.dtmf:
                said = ex.shown(heard.dtmf)
            elif heard.text:
                said = ex.shown(heard.text)
            else:
                said = "…"
            captions.append({"who": "caller", "text": said})
        if turn.say:
            captions.append({"who": "agent", "text": mask_card_numbers(turn.say)})
        code = self.state["code"] or confirmation(turn, call)
        self._update(phase="ended" if turn.ended else "call", lang=turn.lang, ui=ui(turn.lang),
                     captions=captions[-MAX_CAPTIONS:], entry="", warning=None, code=code,
                     question=None if turn.ended else question(turn, call),
                     facts=facts(turn, call) or self.state["facts"], speaking=speaking)

    def entry(self, shown: str) -> None:
        self._update(entry=shown)

    def speaking(self, on: bool) -> None:
        if self.state["speaking"] != on:
            self._update(speaking=on)

    def warning(self, text: str | None) -> None:
        if self.state["warning"] != text:
            self._update(warning=text)

    def notice(self, text: str | None) -> None:
        if self.state["notice"] != text:
            self._update(notice=text)


def question(turn, call) -> dict[str, Any]:
    """The question now asked: what it expects, whether the answer is a secret, its buttons."""
    expecting = turn.expecting
    rule = expectation(expecting)
    if expecting == "confirm":
        words = ui(turn.lang)
        choices = [{"key": "1", "label": words["yes"], "keys": "1"},
                   {"key": "2", "label": words["no"], "keys": "2"}]
    elif rule.one_key:
        choices = keyed_choices(keypad_offer(call) or turn.say)
    elif not rule.is_secret:
        # A number question that also offers keys ("say full balance or press 1"): the button
        # keys the choice and "#", as a caller would.
        choices = [{**c, "keys": c["key"] + "#"} for c in keyed_choices(turn.say)]
    else:
        choices = []
    return {"expecting": expecting, "secret": rule.is_secret, "choices": choices}


def keypad_offer(call) -> str:
    """The words the current step's keypad offer would say ("press 1 for your balance, ...")."""
    from voice_agent.dialogue.events import Reply
    agent, session = call.agent, call.session
    try:
        step = agent.step_of(session.state)
        if not step.keypad:
            return ""
        return agent.prompts.render(session.lang, [Reply(step.keypad, dict(session.ask_params))])
    except (KeyError, LookupError, ValueError):     # a prompt without its parameters: no buttons
        return ""


def facts(turn, call) -> list[str]:
    """The turn's sentences that carry money (amount, fee, total, a read-back), as spoken."""
    from voice_agent.dialogue.prompts import Money
    shown = []
    for reply in turn.replies:
        if any(isinstance(v, Money) for v in reply.params.values()):
            shown.append(mask_card_numbers(call.agent.prompts.render(turn.lang, [reply])))
    return shown


def confirmation(turn, call) -> dict[str, str] | None:
    """The confirmation code the turn gives, with its QR code (code and date only)."""
    from voice_agent.dialogue.prompts import Spelled
    for reply in turn.replies:
        code = reply.params.get("code")
        if isinstance(code, Spelled):
            day = call.today or dt.date.today()
            return {"text": code.value, "date": day.isoformat(), "qr": qr_svg(code.value, day)}
    return None
