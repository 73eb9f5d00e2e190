"""What callers do besides answering the question: go back, clear a keyed entry, ask a question
on the way, say goodbye in their own words (issue 12, after Rasa's repair patterns).

Each is generic: it works at every step of every flow, from per-language phrase lists in
locales/<lang>/choices_conv_b.toml (sections ``conv_go_back``, ``conv_question``,
``conv_topic``, ``conv_closing``), and never counts as a miss nor as an answer to the step:
- going back returns to the previous question of the task, with the values collected up to
  it (the session's step history), everything else kept;
- "*" drops the entry being made and asks the same question again;
- a question the agent can answer (balance, due date, fee of a way to pay, what a charge is
  or that the bill has no such charge, how long restoration takes, which cards are taken) is
  answered in one sentence and the question asked again;
- at the menu, a closing ("no that's all, thanks, bye") ends the call politely.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from voice_agent.dialogue.flow import Ctx, Input
from voice_agent.dialogue.flows.balance import say_balance_due
from voice_agent.dialogue.prompts import Money, Prompt
from voice_agent.nlu.text import remove_phrases, tokens

if TYPE_CHECKING:  # pragma: no cover
    from voice_agent.dialogue.engine import Agent

# Steps where a question is a request (routed by the menu) rather than a digression.
ROUTING_FLOWS = ("menu", "language")
MENU_STEPS = ("menu.intent", "menu.more")


def handle(agent: Agent, ctx: Ctx, inp: Input) -> bool:
    """Go back, answer a question or close the call when the caller's words are that.
    True: handled, the step's own handler must not see this turn."""
    if not inp.text:
        return False
    session = ctx.session
    if inp.intent == "repeat" and agent.step_of(session.state).repeat_is_yes:
        inp.value, inp.intent = "yes", "affirm"   # the offer's own answer, counted by the flow
        return False
    if session.state in MENU_STEPS:
        if is_closing(ctx, inp.text, after_more=session.state == "menu.more"):
            ctx.end("paid" if session.payments else "completed", "goodbye")
            return True
        return False
    if session.flow in ROUTING_FLOWS:
        return False
    # A question first: "¿cuánto tarda en volver el servicio?" asks about restoration.
    # Also while a value heard unsure waits for its yes or no ("I heard $45.00. Is that
    # right?" - "wait, when is that due?"): answered, then the read-back again (Ctx.reask).
    topic = question_topic(ctx, inp.text)
    if topic is not None:
        answer(ctx, topic, inp.text)
        return True
    if wants_back(ctx, inp.text):
        go_back(ctx)
        return True
    return False


# -- matching phrases of a choices_conv_b.toml section --------------------------------------------
def _said(ctx: Ctx, text: str, phrases: Iterable[str], start_only: bool = False,
          inside_words: bool = True) -> str | None:
    """The longest of ``phrases`` said in ``text`` as whole words (anywhere, or only at the
    start once lead words like "wait" / "and" are dropped); in a language that joins words a
    phrase also counts inside them ("기한이"), unless ``inside_words`` is off."""
    words = tokens(text)
    if start_only:
        lead = [tuple(tokens(p)) for p in _table(ctx, "conv_question").get("lead", [])]
        while words:
            skip = next((p for p in sorted(lead, key=len, reverse=True)
                         if p and tuple(words[:len(p)]) == p), None)
            if skip is None:
                break
            words = words[len(skip):]
    said = f" {' '.join(words)} "
    compact = said.replace(" ", "")
    joined = ctx.language.joined_words and inside_words
    best = None
    for phrase in phrases:
        want = " ".join(tokens(phrase))
        if not want:
            continue
        if start_only:
            found = said.startswith(f" {want} ")
        else:
            found = f" {want} " in said or (joined and want.replace(" ", "") in compact)
        if found and (best is None or len(want) > len(best)):
            best = want
    return best


def _table(ctx: Ctx, name: str) -> dict[str, list[str]]:
    return ctx.nlu.choices(ctx.lang, name)


# -- going back -------------------------------------------------------------------------------
def wants_back(ctx: Ctx, text: str) -> bool:
    """"go back" / "volver" / "이전", and not "call me back" / "volver a llamar". Whole words
    only: "이전에 냈어요" (I paid before) is no going back."""
    table = _table(ctx, "conv_go_back")
    return (_said(ctx, text, table.get("back", []), inside_words=False) is not None
            and _said(ctx, text, table.get("not_back", [])) is None)


def go_back(ctx: Ctx) -> None:
    """Return to the previous question of this task with the values it had then (a value given
    at it, or later, is asked again); at the first question, ask it again."""
    session = ctx.session
    session.unsure = None
    previous = session.previous_step()
    if previous is None:
        ctx.say("conv_b_back_first")
        ctx.reask()
        return
    state, params, slots = previous
    session.slots.update(slots)
    ctx.say("conv_b_going_back")
    ctx.ask(state, **params)


def clear_entry(agent: Agent, ctx: Ctx) -> None:
    """"*": drop what was being keyed (and a value awaiting "is that right?") and ask again."""
    ctx.session.unsure = None
    ctx.say("conv_b_cleared")
    ctx.reask()


# -- questions on the way ------------------------------------------------------------------------
def question_topic(ctx: Ctx, text: str) -> str | None:
    """What a question asks about, when the words are a question the agent can answer."""
    questions = _table(ctx, "conv_question")
    asked = ("?" in text or "¿" in text
             or _said(ctx, text, questions.get("start", []), start_only=True) is not None
             or _said(ctx, text, questions.get("anywhere", [])) is not None)
    if not asked or _said(ctx, text, questions.get("not", [])) is not None:
        return None
    method = _method_named(ctx, text)
    if method is None and _charge_named(ctx, text) is not None:
        return "charge"
    found = {key: _said(ctx, text, phrases) for key, phrases in _table(ctx, "conv_topic").items()}
    found = {key: phrase for key, phrase in found.items() if phrase}
    missing = _charge_missing(ctx, text) if method is None else None
    if missing is not None and _more_specific(missing, found.values()):
        return "no_charge"
    if not found:
        return None
    return max(found, key=lambda key: len(found[key]))


def _more_specific(missing: tuple[str, str], topics: Iterable[str]) -> bool:
    """A charge the bill lacks is what was asked about when the caller said its name, or
    words for it that say clearly more than any topic heard: "cargo por mora" is more than
    "cargo" (a fee), but "the fee" is just "fee"."""
    name, phrase = missing
    if phrase == " ".join(tokens(name)):
        return True
    longest = max((len(topic.split()) for topic in topics), default=0)
    return not longest or len(phrase.split()) >= longest + 2


def _method_named(ctx: Ctx, text: str) -> str | None:
    """"card" or "bank" when the caller names a way to pay (not a saved one)."""
    table = ctx.nlu.choices(ctx.lang, "payment_method")
    found = {key: _said(ctx, text, table.get(key, [])) for key in ("card", "bank")}
    found = {key: phrase for key, phrase in found.items() if phrase}
    return max(found, key=lambda key: len(found[key])) if found else None


def _charge_named(ctx: Ctx, text: str):
    """The charge of the verified account whose name (or a synonym) the caller said."""
    if ctx.session.account is None:
        return None
    synonyms = {k.lower(): v for k, v in ctx.nlu.choices(ctx.lang, "charge_names").items()}
    for charge in ctx.store.charges(ctx.session.account):
        name = charge.description.lower()
        if _said(ctx, text, [name, *synonyms.get(name, [])]) is not None:
            return charge
    return None


def _charge_missing(ctx: Ctx, text: str) -> tuple[str, str] | None:
    """(name, the words said for it): a kind of charge the caller named ("what is the late
    fee?", choices_cases.toml [charge_names]) that the verified account's bill does not have."""
    if ctx.session.account is None:
        return None
    held = {charge.description.lower() for charge in ctx.store.charges(ctx.session.account)}
    for name, synonyms in ctx.nlu.choices(ctx.lang, "charge_names").items():
        phrase = _said(ctx, text, [name, *synonyms]) if name.lower() not in held else None
        if phrase is not None:
            return name, phrase
    return None


def answer(ctx: Ctx, topic: str, text: str) -> None:
    """One sentence that answers the question, then the step's question again."""
    needs_account = topic in ("balance", "due_date", "charge", "no_charge")
    account = ctx.account(refresh=True) if ctx.session.account else None
    if needs_account and account is None:
        ctx.say("conv_b_need_account")
    elif topic == "charge":
        charge = _charge_named(ctx, text)
        ctx.say("conv_b_charge", description=charge.description,
                amount=Money(charge.amount_cents), date=charge.date)
    elif topic == "no_charge":
        name, _ = _charge_missing(ctx, text)
        ctx.say("conv_b_no_charge", description=name.capitalize())   # as a bill prints it
    elif topic in ("balance", "due_date"):
        say_balance_due(ctx, account)
    elif topic == "fee":
        method = _method_named(ctx, text)
        fees = {kind: _fee(ctx, kind) for kind in ("card", "bank")}
        if method is None:
            ctx.say("conv_b_fees", card_fee=fees["card"], bank_fee=fees["bank"])
        else:
            ctx.say(f"conv_b_fee_{method}", fee=fees[method])
    elif topic == "methods":
        ctx.say("conv_b_methods")
    elif topic == "restore_time":
        ctx.say("conv_b_restore_time", hours=int(ctx.settings["restore_within_hours"]))
    ctx.reask()


def _fee(ctx: Ctx, kind: str) -> Prompt:
    cents = ctx.settings.fee_cents(kind)
    return Prompt("fee_is", {"fee": Money(cents)}) if cents else Prompt("fee_none", {})


# -- closings ---------------------------------------------------------------------------------
def is_closing(ctx: Ctx, text: str, after_more: bool) -> bool:
    """The words are only a closing: at least one ending ("that's all", "bye", "eso es todo",
    "됐어요") - or, after "anything else?", a no - and nothing else but thanks and fillers."""
    table = _table(ctx, "conv_closing")
    if not table:
        return False
    words = ctx.nlu.locale(ctx.lang).without_fillers(tokens(text))
    if not words:
        return False
    lists = {key: [p for p in (tuple(tokens(x)) for x in table.get(key, [])) if p]
             for key in ("end", "no", "soft")}
    ended = len(remove_phrases(words, lists["end"])) < len(words)
    declined = after_more and len(remove_phrases(words, lists["no"])) < len(words)
    if not (ended or declined):
        return False
    return not remove_phrases(words, lists["end"] + lists["no"] + lists["soft"])
