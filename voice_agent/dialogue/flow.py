"""What a flow is, and the context a flow works through.

A flow (balance, payment, ...) is a small class with named steps. Each `Step` declares what the
front end should expect, which prompt asks for it, which prompts give more guidance and the
keypad alternative, what kind of value the NLU should look for, and whether the caller's answer
is a secret (stored redacted). The engine handles everything common to all steps - silence,
no match, repeat, slower, help, cancel, change of language, read-back of unsure values - and
hands the flow an `Input` only when there is something for the flow itself to decide.

Flows never produce text: they call `ctx.say(key, **params)` and `ctx.ask(step, **params)`, the
way Rasa actions reply through a dispatcher.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from voice_agent.dialogue.events import Reply
from voice_agent.expect import is_secret, kind_of
from voice_agent.languages import Language, load_language

if TYPE_CHECKING:  # pragma: no cover
    from voice_agent.dialogue.engine import Agent
    from voice_agent.dialogue.session import Session


# Session slot: the read-back whose earlier answer the caller is changing (Ctx.correcting).
CORRECTING_SLOT = "correcting"


@dataclass(frozen=True)
class Step:
    """One question a flow asks."""

    expecting: str                # what the answer is (voice_agent/expect.py: the one table)
    prompt: str                   # asks the question
    help: str                     # more guidance: the first reprompt and the answer to "help"
    keypad: str | None = None     # offers keypad entry: the second reprompt
    readback: str | None = None   # "digits" or "amount": unsure values are read back first
    strict: bool = False          # yes/no that moves money: only a confident, explicit yes counts
    # Strict steps: asked once when a bare yes/no is heard in the confirm band ("just to be
    # sure ..."); a second yes/no in that band is then taken (engine._strict_unsure).
    recheck: str = "confirm_recheck"
    # An offer to repeat something ("repeat the confirmation code?"): "say it again" is a yes.
    repeat_is_yes: bool = False
    # A read-back: the flow's steps whose answers the caller may change here ("no, make it sixty
    # twenty five", "use my bank account instead"); the engine hands the new answer to that step
    # and the flow reads back again (engine._correct).
    corrects: tuple[str, ...] = ()
    # The choice list (locales/<lang>/choices*.toml) of the step's answers in words: how a
    # correction naming one is recognised, and why those words are the step's answer rather than
    # an intent that would interrupt the step ("I forgot my PIN" at the PIN question).
    choices: str | None = None

    @property
    def kind(self) -> str | None:
        """NLU value kind of the answer (digits, amount, date, expiry, yes_no, language, number)."""
        return kind_of(self.expecting)

    @property
    def redact(self) -> bool:
        """The caller's answer is a secret: stored as "[redacted]", never read back aloud."""
        return is_secret(self.expecting)


@dataclass
class Input:
    """A caller turn as the flow sees it, after the engine has understood it."""

    text: str | None
    dtmf: str | None               # keys without the closing "#"
    intent: str | None
    value: Any                     # value of the step's kind (from speech or keypad), or None
    confidence: float
    understanding: Any = None      # the NLU's Understanding of `text`, once per turn
    confirmed: bool = False        # the value was read back and the caller said yes
    kind: str | None = None        # the value kind `text` was understood as (Step.kind)

    @property
    def yes(self) -> bool:
        return self.value == "yes" or self.dtmf == "1" or (self.value is None
                                                            and self.intent == "affirm")

    @property
    def no(self) -> bool:
        return self.value == "no" or self.dtmf == "2" or (self.value is None
                                                           and self.intent == "deny")


class Flow:
    """Base class: subclasses set the class attributes and write `on_<step>(ctx, inp)` methods."""

    name: ClassVar[str] = ""
    intents: ClassVar[tuple[str, ...]] = ()     # intents that start this flow
    needs_account: ClassVar[bool] = False       # verify the caller first (request remembered)
    menu_key: ClassVar[str | None] = None       # keypad digit at the main menu
    interrupts: ClassVar[bool] = False          # its intent is honoured at every step
    not_interrupting: ClassVar[frozenset[str]] = frozenset()   # ... except at these `expecting`
    steps: ClassVar[dict[str, Step]] = {}

    def begin(self, ctx: Ctx) -> None:
        raise NotImplementedError

    def step_params(self, ctx: Ctx, step: str) -> dict[str, Any]:
        """Parameters every prompt of `step` gets (its question, help and keypad offer),
        wherever it is asked from; a flow overrides this for prompts built from data."""
        return {}

    def handle(self, ctx: Ctx, step: str, inp: Input) -> None:
        handler = getattr(self, f"on_{step}", None)
        if handler is None:
            raise LookupError(f"flow {self.name} has no handler for step {step!r}")
        handler(ctx, inp)


class Ctx:
    """The per-turn dispatcher a flow talks to: it collects replies and moves the session."""

    def __init__(self, agent: Agent, session: Session):
        self.agent = agent
        self.session = session
        self.replies: list[Reply] = []
        self.transfer: str | None = None
        # The miss this turn answered ("no_input", "no_match", ...): recorded for the report.
        self.missed: str | None = None
        self._account: Any = None

    # -- what flows read
    @property
    def settings(self):
        return self.agent.settings

    @property
    def store(self):
        return self.agent.store

    @property
    def nlu(self):
        return self.agent.nlu

    @property
    def lang(self) -> str:
        return self.session.lang

    @property
    def language(self) -> Language:
        """Facts about the caller's language (locales/<lang>/language.toml)."""
        return load_language(self.lang)

    @property
    def today(self) -> dt.date:
        return self.session.today or dt.date.today()

    @property
    def correcting(self) -> bool:
        """The caller is changing an answer given before a read-back (engine._correct): once the
        flow has what it needs again it reads back again instead of asking the later questions
        anew. Lasts until that read-back is asked again or the call is back at the menu."""
        return CORRECTING_SLOT in self.session.slots

    def correct_from(self, state: str) -> None:
        """Start changing an answer given before the read-back at ``state``."""
        self.session.slots[CORRECTING_SLOT] = state

    def account(self, refresh: bool = False):
        """The verified account (fresh from the store once per turn)."""
        if self.session.account is None:
            return None
        if self._account is None or refresh:
            self._account = self.store.account(self.session.account)
        return self._account

    # -- what flows do
    def say(self, key: str, **params: Any) -> None:
        self.replies.append(Reply(key, params))

    def ask(self, state: str, **params: Any) -> None:
        """Move to a step ("step" of the current flow or "flow.step") and ask its question."""
        if "." not in state:
            state = f"{self.session.flow}.{state}"
        if state != self.session.state:
            self.session.misses = 0
        if state.startswith("menu.") or self.session.slots.get(CORRECTING_SLOT) == state:
            self.session.slots.pop(CORRECTING_SLOT, None)
        self.session.state = state
        flow = self.agent.registry.flows.get(self.session.flow)
        given = dict(params)
        params = {**(flow.step_params(self, self.session.step) if flow else {}), **given}
        self.session.ask_params = dict(params)
        self.session.note_asked(state, params)
        self.replies.append(Reply(self.agent.step_of(state).prompt, dict(params)))

    def reask(self) -> None:
        """Ask the current question again: the read-back of a value heard unsure ("I heard
        $45.00. Is that right?") while one waits for its yes or no, else the step's question with
        the same parameters."""
        step = self.agent.step_of(self.session.state)
        if self.session.unsure is not None:
            self.agent.say_readback(self, step, self.session.unsure[1])
            return
        self.replies.append(Reply(step.prompt, dict(self.session.ask_params)))

    def miss(self, reason: str) -> None:
        """The answer was missing, not understood or not valid: escalate (never loops forever)."""
        self.agent.handle_miss(self, reason)

    def start(self, name: str) -> None:
        """Start a flow by name or intent, verifying the caller first if the flow needs it."""
        self.agent.start_flow(self, name)

    def finish(self, done: str | None = None) -> None:
        """The task is done: note it and ask whether there is anything else."""
        if done:
            self.session.completed.append(done)
        self.session.pending = None
        self.ask("menu.more")

    def resume(self) -> None:
        """Return to the step that was interrupted (or to the main menu)."""
        if self.session.resume:
            state, params = self.session.resume
            self.session.resume = None
            self.ask(state, **params)
        else:
            self.ask("menu.intent")

    def end(self, outcome: str, *keys: str) -> None:
        """Close the call politely with the given outcome."""
        for key in keys:
            self.say(key)
        self.session.state = "end.done"
        self.session.ended = True
        self.session.outcome = outcome

    def value(self, inp: Input, kind: str) -> Any:
        """The value of `kind` in the caller's words: the one understood for the step when it
        asked for this kind, else parsed now (a text is not parsed twice for one kind)."""
        if inp.kind == kind and inp.value is not None:
            return inp.value
        if not inp.text:
            return None
        return self.nlu.parse_value(kind, inp.text, self.lang, today=self.today)

    def choice(self, inp: Input, name: str) -> str | None:
        """Which entry of locales/<lang>/choices.toml [name] the caller's words match, if any."""
        if not inp.text:
            return None
        table = self.nlu.choices(self.lang, name)
        key, score = self.nlu.match_choice(inp.text, self.lang, table)
        if key:
            return key
        return most_specific_choice(inp.text, table, self.language.joined_words)


def most_specific_choice(text: str, table: dict[str, list[str]], joined_words: bool) -> str | None:
    """Break a tie the fuzzy matcher leaves ("saved card" matches both "card" and "saved card"):
    the key whose longest phrase is said word for word wins, if exactly one key has it. In a
    language that joins words (Korean: "저장된카드로") a phrase also counts inside the words, spaces
    ignored."""
    said = f" {' '.join(text.lower().split())} "
    compact = said.replace(" ", "")
    best: dict[str, int] = {}
    for key, phrases in table.items():
        for phrase in phrases:
            words = " ".join(phrase.lower().split())
            if words and (f" {words} " in said or (joined_words and len(words) > 1
                                                   and words.replace(" ", "") in compact)):
                best[key] = max(best.get(key, 0), len(words))
    if not best:
        return None
    ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]
