"""The Agent: one caller event in, one agent turn out, no I/O of its own.

`Agent.step` understands the event for the step the call is at, handles what is the same at
every step (silence, no match, unsure recognition, repeat, slower, help, cancel, goodbye,
change of language, interrupting intents like "agent"; going back, "*", questions on the way and
closings: dialogue/repair.py), and otherwise hands the input to the
flow that owns the step. Every caller and agent turn goes into the call record through the store,
redacted when the step collects a secret.

A caller turn longer than ``max_utterance_chars`` (typed, keyed or recognised: every channel's
event comes through `step`) is not understood at all: the caller is told it was too long and
asked again, as for any miss, and the record keeps only its length. Understanding a megabyte
line would cost seconds of CPU, and thousands of digits broke number parsing.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from voice_agent.dialogue import repair
from voice_agent.dialogue.commands import COMMANDS, GLOBAL_INTENTS, language_in
from voice_agent.dialogue.events import AgentTurn, CallerEvent, Reply
from voice_agent.dialogue.flow import Ctx, Input, Step
from voice_agent.dialogue.flows import Registry, default_registry
from voice_agent.dialogue.keypad import CLEAR_KEY, END_KEY
from voice_agent.dialogue.prompts import Digits, Money, Prompts, join_segments
from voice_agent.dialogue.session import Session
from voice_agent.dialogue.validators import normalize_expiry
from voice_agent.redact import REDACTED, mask_caller_turn, mask_card_numbers, mask_digit_runs

log = logging.getLogger(__name__)

# Misses at one step before the caller is offered a person and the call ends politely.
MAX_MISSES = 3
END_STEP = Step(expecting="none", prompt="goodbye", help="goodbye")
# Session slot: the strict step where "just to be sure" was asked (answered on the next turn).
RECHECK_SLOT = "strict_recheck"
# Replies that comment on the conversation itself; "repeat" does not repeat them.
META_REPLIES = {"ok_slower", "repeating"}


def _answers_step(ctx: Ctx, step: Step, inp: Input) -> bool:
    """The words are one of the step's own answers in words (its choice list: "se me olvidó el
    pin" at the PIN question): the step's flow takes them, not an intent that would interrupt
    the step (a security question, a hand-off) and only matched them loosely."""
    return bool(step.choices and inp.text and ctx.choice(inp, step.choices))


def _plain_command(inp: Input) -> bool:
    """The turn is plainly a command ("cancel that", "repeat"), with no yes or no in it: it is
    read as a correction only from a correction word on (Agent._correction_text)."""
    return inp.value is None and inp.intent in GLOBAL_INTENTS


class Agent:
    """The call dialogue. Thread-safe per session: share one Agent, give each call a Session."""

    def __init__(self, settings, store, nlu, registry: Registry | None = None,
                 prompts: Prompts | None = None):
        self.settings = settings
        self.store = store
        self.nlu = nlu
        self.registry = registry or default_registry()
        self.prompts = prompts or Prompts(settings)
        audio = settings["audio"]
        self.accept = float(audio["confidence_accept"])
        self.confirm = float(audio["confidence_confirm"])
        self.max_chars = int(settings["max_utterance_chars"])

    # -- the public API -------------------------------------------------------------------------
    def start(self, lang: str | None = None, caller_id: str | None = None,
              today: dt.date | None = None, channel: str = "text") -> tuple[Session, AgentTurn]:
        """Open the call record and greet the caller (with the language menu unless known)."""
        languages = self.settings.languages
        if lang is not None and lang not in languages:
            raise ValueError(f"language {lang!r} is not enabled (enabled: {', '.join(languages)})")
        session = Session(lang=lang or self.settings.default_language, caller_id=caller_id,
                          channel=channel, today=today)
        session.call_id = self.store.start_call(channel, session.lang, caller_id=caller_id)
        ctx = Ctx(self, session)
        ctx.say("greeting")
        if lang is not None or len(languages) == 1:
            ctx.ask("menu.intent")
        else:
            self.registry.flows["language"].begin(ctx)
        return session, self._turn(ctx)

    def step(self, session: Session, event: CallerEvent) -> AgentTurn:
        if session.ended:
            return AgentTurn(say="", lang=session.lang, expecting="none", state=session.state,
                             ended=True, outcome=session.outcome, slow=session.slow)
        ctx = Ctx(self, session)
        self._record_caller(session, event)
        try:
            self._dispatch(ctx, event)
        except Exception:  # a fault must still end the call politely and be recorded
            log.exception("dialogue fault in state %s", session.state)
            ctx.replies.clear()
            session.unsure = None
            ctx.end("error", "system_error", "goodbye")
            return self._turn(ctx, after_fault=True)
        return self._turn(ctx)

    def hangup(self, session: Session) -> None:
        """The caller hung up: close the call record (once)."""
        if session.ended:
            return
        session.ended = True
        session.state = "end.hangup"
        session.outcome = ("paid" if session.payments else
                           "completed" if session.completed else "abandoned")
        session.forget_secrets()
        self._end_call(session)

    # -- used by flows through Ctx -------------------------------------------------------------
    def language_in(self, text: str, lang: str) -> str | None:
        """A language named in the text, in the call's language or any other enabled one."""
        return language_in(self, text, lang)

    def step_of(self, state: str) -> Step:
        flow, _, step = state.partition(".")
        if flow == "end":
            return END_STEP
        return self.registry.flows[flow].steps[step]

    def start_flow(self, ctx: Ctx, name: str) -> None:
        session = ctx.session
        flow = self.registry.get(name)
        if flow is None:
            # An intent this line cannot serve yet: say so plainly and offer the menu again.
            ctx.say("not_available")
            ctx.finish()
            return
        if flow.needs_account and session.account is None:
            session.pending = flow.name
            flow = self.registry.flows["verify"]
        session.state = f"{flow.name}."
        flow.begin(ctx)

    def handle_miss(self, ctx: Ctx, reason: str) -> None:
        session = ctx.session
        session.misses += 1
        session.last_miss = reason
        ctx.missed = reason
        ctx.say(reason)
        if session.misses >= MAX_MISSES:
            session.unsure = None
            outcome = "no_input" if reason == "no_input" else "no_match"
            self.escalate(ctx, outcome)
            return
        if session.unsure is not None:
            self.say_readback(ctx, self.step_of(session.state), session.unsure[1])
            return
        step = self.step_of(session.state)
        key = step.help if session.misses == 1 or not step.keypad else step.keypad
        ctx.say(key, **session.ask_params)

    def escalate(self, ctx: Ctx, outcome: str) -> None:
        """Offer a person: the flow registered for "agent" decides how (transfer or not)."""
        flow = self.registry.get("agent")
        if flow is not None and hasattr(flow, "escalate"):
            flow.escalate(ctx, outcome)
        else:
            ctx.end(outcome, "escalate_offline", "goodbye")

    # -- internals -------------------------------------------------------------------------------
    def _dispatch(self, ctx: Ctx, event: CallerEvent) -> None:
        session = ctx.session
        step = self.step_of(session.state)
        # A "just to be sure" question is answered by the very next turn, or not at all.
        rechecked = session.slots.pop(RECHECK_SLOT, None) == session.state
        if self._too_long(event):
            ctx.miss("too_long")
            return
        if event.is_silence:
            ctx.miss("no_input")
            return
        dtmf = None
        if event.dtmf is not None and event.dtmf.strip():
            if CLEAR_KEY in event.dtmf:  # keypad rule: "*" clears the entry (dialogue/keypad.py)
                repair.clear_entry(self, ctx)
                return
            dtmf = event.dtmf.replace(END_KEY, "").replace(" ", "")
            if not dtmf:
                ctx.miss("no_match")
                return
        confidence = 1.0 if dtmf is not None or event.confidence is None else event.confidence
        if confidence < self.confirm:
            ctx.miss("unsure")
            return
        inp = self._understand(ctx, step, event, dtmf, confidence)
        if repair.handle(self, ctx, inp):   # go back, a question on the way, a closing
            return
        if step.strict and inp.value == "yes" and inp.text:
            self._double_check_yes(ctx, inp)
        if session.unsure is not None:
            self._answer_readback(ctx, step, inp, confidence)
            return
        if step.corrects and confidence >= self.accept and self._correct(ctx, step, inp):
            return
        if inp.value is None and inp.intent:
            if inp.intent in GLOBAL_INTENTS:
                COMMANDS[inp.intent](self, ctx, inp)
                return
            flow = self.registry.interrupting(inp.intent, step.expecting)
            if flow is not None and session.flow != flow.name and not _answers_step(ctx, step, inp):
                session.resume = (session.state, dict(session.ask_params))
                self.start_flow(ctx, flow.name)
                return
        if inp.value is not None and inp.dtmf is None and confidence < self.accept:
            if step.redact:  # never read a secret back aloud: ask for it again instead
                ctx.miss("unsure_secret")
                return
            if step.readback:
                session.unsure = (session.state, inp.value)
                self.say_readback(ctx, step, inp.value)
                return
        if step.strict and inp.dtmf is None and confidence < self.accept:
            if not self._strict_unsure(ctx, step, inp, rechecked):
                return
        self.registry.flows[session.flow].handle(ctx, session.step, inp)

    def _understand(self, ctx: Ctx, step: Step, event: CallerEvent, dtmf: str | None,
                    confidence: float) -> Input:
        kind = "yes_no" if ctx.session.unsure is not None else step.kind
        if dtmf is not None:
            value: Any = None
            if kind == "digits":
                value = "".join(ch for ch in dtmf if ch.isdigit()) or None
            elif kind == "yes_no":
                value = {"1": "yes", "2": "no"}.get(dtmf)
            elif kind == "expiry":
                value = normalize_expiry(dtmf)
            return Input(text=None, dtmf=dtmf, intent=None, value=value, confidence=1.0)
        text = (event.text or "").strip()
        # The one understanding of this turn's words: a value recognition parsed already (of
        # this kind, in this language) is used, not parsed again.
        parsed, value = event.value_of(kind, ctx.lang)
        heard = {"parsed": True, "value": value} if parsed else {}
        u = self.nlu.understand(text, ctx.lang, expect=kind, today=ctx.today, **heard)
        value = u.value if kind else None
        return Input(text=text, dtmf=None, intent=u.intent, value=value, confidence=confidence,
                     understanding=u, kind=kind)

    def _double_check_yes(self, ctx: Ctx, inp: Input) -> None:
        """Before money moves, "yes" must be a yes on its own too: "do it in English" or "yes,
        cancel" found a yes word but is not consent; it is handled as what it plainly says."""
        plain = inp.understanding.plain_intent
        if plain != "affirm":
            inp.value = None
            inp.intent = plain

    def _strict_unsure(self, ctx: Ctx, step: Step, inp: Input, rechecked: bool) -> bool:
        """A yes/no that moves money, heard in the confirm band (below accept, at or above
        confirm). Phone audio puts a real "네" or "yes" there (0.7-0.83 measured at 8 kHz), so
        refusing it would leave a caller no way to consent by voice. What a careful agent does:
        when all that was heard is a yes or no word, ask once more ("just to be sure, say yes or
        press 1 to pay $X"); a second yes/no in the band is then taken. Anything else in the
        band, and anything below it (refused before this), is never taken. True: handle it."""
        session = ctx.session
        if inp.value not in ("yes", "no") or not self._only_yes_no(ctx, inp):
            ctx.miss("unsure")
            return False
        if rechecked:
            return True
        session.slots[RECHECK_SLOT] = session.state
        ctx.say(step.recheck, **session.ask_params)
        return False

    def _only_yes_no(self, ctx: Ctx, inp: Input) -> bool:
        """The words are a plain yes or no (not "yes, cancel" or "no, the other card").
        A yes has passed `_double_check_yes` already; a no is checked the same way."""
        if inp.value == "yes":
            return True
        return inp.understanding.plain_intent == "deny"

    def say_readback(self, ctx: Ctx, step: Step, value: Any) -> None:
        """The read-back of a value heard unsure at ``step``: "I heard {value}. Is that right?"."""
        if step.readback == "amount":
            ctx.say("readback_amount", value=Money(int(value)))
        else:
            ctx.say("readback_digits", value=Digits(str(value), echo=True))

    def _correct(self, ctx: Ctx, step: Step, inp: Input) -> bool:
        """A read-back answered with a new answer to an earlier question ("no, make it sixty
        twenty five", "actually use my bank account instead"), as a careful agent takes it: that
        question takes the new answer as if it had just been asked and the flow goes on from
        there (back to the read-back once it has what it needs); everything else is kept. A yes
        is never a correction, nor a command ("cancel the card payment") unless a new answer
        follows a correction word in it ("mejor cuarenta dólares", which also sounds like "mejor
        no"). True: the turn was a correction and has been handled."""
        text = self._correction_text(ctx, inp)
        if text is None or inp.value == "yes":
            return False
        said = Input(text=text, dtmf=None, intent=None, value=None, confidence=inp.confidence)
        session = ctx.session
        flow = self.registry.flows[session.flow]
        for name in step.corrects:
            owner_name, _, name = name.rpartition(".")   # "paymethod.method": another flow's
            owner = self.registry.flows[owner_name] if owner_name else flow
            target = owner.steps[name]
            value = (self.nlu.parse_value(target.kind, said.text, ctx.lang, today=ctx.today)
                     if target.kind else None)
            if value is None and not (target.choices and ctx.choice(said, target.choices)):
                continue
            ctx.correct_from(session.state)   # the read-back, asked again once complete
            session.state = f"{owner.name}.{name}"
            session.misses = 0
            session.ask_params = owner.step_params(ctx, name)
            owner.handle(ctx, name, Input(text=said.text, dtmf=None, intent=None, value=value,
                                         confidence=inp.confidence, kind=target.kind))
            return True
        return False

    def _correction_text(self, ctx: Ctx, inp: Input) -> str | None:
        """The words a new answer may be in: all of them, but of a plain command only those
        after a correction word ("mejor cuarenta dólares" also sounds like "mejor no")."""
        if not inp.text:
            return None
        if _plain_command(inp):
            return self.nlu.corrected_words(inp.text, ctx.lang)
        return inp.text

    def _answer_readback(self, ctx: Ctx, step: Step, inp: Input, confidence: float) -> None:
        """The caller's answer to "I heard X, is that right?": yes takes X; a new value of the
        step's kind ("no, fifty", "forty scratch that fifty") is taken as the answer instead,
        read back again when it too was heard unsure; a plain no asks the question again."""
        session = ctx.session
        corrected = None
        text = self._correction_text(ctx, inp)
        if not inp.yes and text and step.kind not in (None, "yes_no"):
            corrected = self.nlu.parse_value(step.kind, text, ctx.lang, today=ctx.today)
        if corrected is not None:
            if confidence < self.accept:
                session.unsure = (session.state, corrected)
                self.say_readback(ctx, step, corrected)
                return
            session.unsure = None
            self.registry.flows[session.flow].handle(ctx, session.step, Input(
                text=inp.text, dtmf=None, intent=None, value=corrected, confidence=confidence,
                kind=step.kind))
        elif inp.yes:
            value = session.unsure[1]
            session.unsure = None
            confirmed = Input(text=inp.text, dtmf=None, intent=None, value=value,
                              confidence=1.0, confirmed=True)
            self.registry.flows[session.flow].handle(ctx, session.step, confirmed)
        elif inp.no:
            session.unsure = None
            ctx.say("readback_retry")
            ctx.reask()
        elif inp.intent in GLOBAL_INTENTS:
            session.unsure = None
            COMMANDS[inp.intent](self, ctx, inp)
        else:
            ctx.miss("readback_yes_no")

    def _too_long(self, event: CallerEvent) -> int:
        """The length of a caller turn over the cap (0 when within it)."""
        length = max(len(event.text or ""), len(event.dtmf or ""))
        return length if length > self.max_chars else 0

    def _record_caller(self, session: Session, event: CallerEvent) -> None:
        step = self.step_of(session.state)
        redact = step.redact and session.unsure is None
        if self._too_long(event):
            text = f"[too long: {self._too_long(event)} characters]"     # none of its words
        else:
            if event.is_silence:
                text = "[no input]"
            elif event.dtmf:
                text = f"dtmf:{event.dtmf}"
            else:
                text = (event.text or "").strip()
            # The one place caller turns are masked, before the store (which stores what it is
            # given): a number blurted at any step keeps at most the last four of a card number.
            text = REDACTED if redact else mask_caller_turn(text, session.lang,
                                                             self.settings.languages)
        self.store.add_turn(session.call_id, "caller", text, expecting=step.expecting,
                            confidence=event.confidence, redact=redact, **_where(session))

    def _turn(self, ctx: Ctx, after_fault: bool = False) -> AgentTurn:
        session = ctx.session
        if session.ended and "summary" in self.registry.flows:
            self.registry.flows["summary"].closing(ctx)   # what was done, before the goodbye
        replies = ctx.replies
        kept = [r for r in replies if r.key not in META_REPLIES]
        if kept:
            session.last_replies = kept
        segments = tuple(self.prompts.segments(session.lang, replies))
        say = join_segments(segments)
        if session.ended:
            expecting = "none"
        elif session.unsure is not None:
            expecting = "confirm"
        else:
            expecting = self.step_of(session.state).expecting
        turn = AgentTurn(say=say, lang=session.lang, expecting=expecting, state=session.state,
                         ended=session.ended, outcome=session.outcome, slow=session.slow,
                         transfer=ctx.transfer, replies=tuple(replies), segments=segments)
        recorded = self.prompts.render(session.lang, _recorded(replies)) if any(
            _is_echo(v) for r in replies for v in r.params.values()) else say
        if session.ended:
            session.forget_secrets()
        try:
            self.store.add_turn(session.call_id, "agent", mask_card_numbers(recorded),
                                expecting=expecting, miss=ctx.missed, **_where(session))
            if session.ended:
                self._end_call(session)
        except Exception:
            if not after_fault:
                raise
            # The fault may be the store's own (a full disk): the caller still hears the goodbye;
            # the call record stays open and the next start closes it as interrupted (calls.py).
            log.exception("call %s: the end of the call could not be recorded", session.call_id)
        return turn

    def _end_call(self, session: Session) -> None:
        summary = "; ".join(session.completed + [f"payment {c}" for c in session.payments])
        self.store.end_call(session.call_id, session.outcome, account_number=session.account,
                            summary=mask_card_numbers(summary) or None)


def _where(session: Session) -> dict[str, str | None]:
    """Where a turn happened, for the call record and the staff report: the language it was held
    in, the step, and the task (the flow, or the one waiting for verification)."""
    return {"lang": session.lang, "state": session.state, "task": session.pending or session.flow}


def _is_echo(value: Any) -> bool:
    return isinstance(value, Digits) and value.echo


def _recorded(replies: list[Reply]) -> list[Reply]:
    """The replies as the call record keeps them: a number the caller said, read back to them
    (it may be a card number or an SSN said at the account prompt), masked as their turn is."""
    return [Reply(r.key, {k: mask_digit_runs(v.value) if _is_echo(v) else v
                          for k, v in r.params.items()}, r.lang) for r in replies]


def reply_keys(turn: AgentTurn) -> list[str]:
    """The prompt keys of a turn (handy in tests)."""
    return [r.key for r in turn.replies]


__all__ = ["Agent", "CallerEvent", "AgentTurn", "Reply", "Session", "reply_keys"]
