"""Choosing the call's language: offered in every enabled language, by speech or keypad.

Used at the start of a call and whenever the caller asks to change language without naming one;
after the choice the call returns to where it was (or to the main menu).
"""
from __future__ import annotations

from voice_agent.dialogue.flow import Ctx, Flow, Input, Step
from voice_agent.dialogue.prompts import Prompt


class LanguageFlow(Flow):
    name = "language"
    steps = {
        "choose": Step(expecting="language", prompt="language_prompt", help="language_help",
                       keypad="language_keypad"),
    }

    def begin(self, ctx: Ctx) -> None:
        # Each option in its own language, with its keypad digit: "For English, press 1. ..."
        options = tuple(Prompt("language_option", {"digit": digit}, lang=code)
                        for digit, code in enumerate(ctx.settings.languages, start=1))
        ctx.ask("language.choose", options=options)

    def on_choose(self, ctx: Ctx, inp: Input) -> None:
        languages = ctx.settings.languages
        code = None
        if inp.dtmf is not None:
            if inp.dtmf.isdigit() and 1 <= int(inp.dtmf) <= len(languages):
                code = languages[int(inp.dtmf) - 1]
        elif inp.value in languages:
            code = inp.value
        else:
            code = ctx.agent.language_in(inp.text or "", ctx.lang)
        if code is None:
            # Someone who starts with their request ("pay my bill") is served in this language.
            if inp.intent and ctx.agent.registry.get(inp.intent) and not ctx.session.resume:
                ctx.start(inp.intent)
                return
            ctx.miss("no_match")
            return
        ctx.session.lang = code
        ctx.session.lang_chosen = True
        ctx.say("language_set")
        if ctx.session.resume:
            ctx.resume()
        else:
            ctx.ask("menu.intent")


FLOWS = [LanguageFlow()]
