"""The open question ("how can I help?") and routing by intent or main-menu key.

Values said along with the request (mixed initiative: "pay fifty dollars on account 1 2 3 ...")
are kept in the session's slots so the flows do not ask for them again.
"""
from __future__ import annotations

import logging
from typing import Any

from voice_agent.dialogue.flow import Ctx, Flow, Input, Step
from voice_agent.dialogue.flows.payment import METHOD_SAID, note_method
from voice_agent.dialogue.prompts import Prompt, PromptError
from voice_agent.dialogue.validators import validate_account_number

log = logging.getLogger(__name__)

GOODBYE_KEY = "9"
# Intents with no flow of their own that the menu answers itself.
NOT_A_REQUEST = {"affirm", "deny", "out_of_scope"}


class MenuFlow(Flow):
    name = "menu"
    steps = {
        "intent": Step(expecting="intent", prompt="menu_prompt", help="menu_help",
                       keypad="menu_keypad"),
        "more": Step(expecting="intent", prompt="menu_more", help="menu_help",
                     keypad="menu_keypad"),
    }

    def begin(self, ctx: Ctx) -> None:
        ctx.ask("menu.intent")

    def step_params(self, ctx: Ctx, step: str) -> dict[str, Any]:
        return {"keys": keypad_options(ctx)}

    def on_intent(self, ctx: Ctx, inp: Input) -> None:
        registry = ctx.agent.registry
        ctx.session.slots.pop("date", None)     # only a date said with this request counts
        if inp.dtmf is not None:
            if inp.dtmf == GOODBYE_KEY:
                ctx.end("paid" if ctx.session.payments else "completed", "goodbye")
            elif inp.dtmf in registry.by_key:
                ctx.start(registry.by_key[inp.dtmf].name)
            else:
                ctx.miss("no_match")
            return
        intent = inp.intent
        if ctx.nlu.only_number(inp.text or "", ctx.lang):
            # "fifty" or a number alone names no request: ask what the caller wants; an
            # account number said alone is kept for verification
            number, _ = validate_account_number(ctx.value(inp, "digits"))
            if number:
                ctx.session.slots["account_number"] = number
            ctx.miss("no_match")
            return
        remember_values(ctx, inp.understanding)
        if intent and intent not in NOT_A_REQUEST:
            ctx.start(intent)
        elif ctx.session.step == "more" and inp.no:
            ctx.end("paid" if ctx.session.payments else "completed", "goodbye")
        elif ctx.session.step == "more" and inp.yes:
            ctx.ask("menu.intent")
        else:
            ctx.miss("no_match")

    on_more = on_intent


def keypad_options(ctx: Ctx) -> tuple[Prompt, ...]:
    """The main menu's keys as the keypad offer reads them ("1 for your balance, 2 to make a
    payment, ..."), from the flows registered with a `menu_key` (each says what it is for in
    `menu_key_<flow>`), in key order with 0 (a person) last; 9 (goodbye) closes the prompt.
    A keyed flow without that prompt still answers its key but is not announced (logged)."""
    keyed = sorted(ctx.agent.registry.by_key.items(), key=lambda item: (item[0] == "0", item[0]))
    options = []
    for key, flow in keyed:
        prompt = f"menu_key_{flow.name}"
        try:
            ctx.agent.prompts.text(ctx.lang, prompt)
        except PromptError:
            log.warning("main-menu key %s (%s) has no prompt %r; not announced",
                        key, flow.name, prompt)
            continue
        options.append(Prompt(prompt, {"digit": key}))
    return tuple(options)


def remember_values(ctx: Ctx, understanding: Any) -> None:
    """Keep values the caller gave with the request (account number, PIN, amount, date, the way
    to pay: "I want to pay with my card") for later steps, which then do not ask for them. A
    date or a way to pay belongs to the request it came with: a new request drops an older one."""
    ctx.session.slots.pop("date", None)
    ctx.session.slots.pop(METHOD_SAID, None)
    text = getattr(understanding, "text", None)
    note_method(ctx, ctx.nlu.request_words(text, ctx.lang) if text else None)
    value = getattr(understanding, "value", None)
    if not isinstance(value, dict):
        return
    for name in ("account_number", "amount", "date", "pin"):
        if value.get(name) not in (None, ""):
            ctx.session.slots[name] = value[name]
    digits = value.get("digits")
    if digits and "account_number" not in ctx.session.slots:
        ctx.session.slots["account_number"] = str(digits)


FLOWS = [MenuFlow()]
