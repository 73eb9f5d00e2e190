"""What a caller can say at every step: repeat, slower, help, cancel, goodbye, change language.

Each command is a function of (agent, ctx, inp); the engine looks them up in COMMANDS when the
caller's words are one of these intents and not a value the step was waiting for. "agent" is not
here: it is a flow (handoff, later callback) marked `interrupts`, so it can be replaced.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from voice_agent.dialogue.flow import Ctx, Input
from voice_agent.dialogue.flows.cancelling import drop_task, has_money_details

if TYPE_CHECKING:  # pragma: no cover
    from voice_agent.dialogue.engine import Agent

GLOBAL_INTENTS = ("repeat", "slower", "help", "cancel", "goodbye", "change_language")


def repeat(agent: Agent, ctx: Ctx, inp: Input | None = None) -> None:
    # Re-rendered from prompt keys, so a repeat after a change of language is in the new one.
    ctx.say("repeating")
    ctx.replies.extend(ctx.session.last_replies)


def slower(agent: Agent, ctx: Ctx, inp: Input | None = None) -> None:
    ctx.session.slow = True          # for the rest of the call
    ctx.say("ok_slower")
    ctx.replies.extend(ctx.session.last_replies)


def help_here(agent: Agent, ctx: Ctx, inp: Input | None = None) -> None:
    """What can be said at this step, then the commands that work everywhere."""
    step = agent.step_of(ctx.session.state)
    ctx.say(step.help, **ctx.session.ask_params)
    ctx.say("help_global")


def cancel(agent: Agent, ctx: Ctx, inp: Input | None = None) -> None:
    """Drop what was being done and go back to the menu; when money details were given, ask
    first (flows/cancelling.py), and a "cancel" at that question is a yes. At a read-back that
    moves money (a strict step: "to cancel it, say no") the caller has just been asked that."""
    asking = agent.registry.flows.get("cancelling")
    strict = agent.step_of(ctx.session.state).strict
    if (asking is not None and ctx.session.flow != asking.name and not strict
            and has_money_details(ctx)):
        asking.begin(ctx)
        return
    drop_task(ctx)


def goodbye(agent: Agent, ctx: Ctx, inp: Input | None = None) -> None:
    ctx.end("paid" if ctx.session.payments else "completed", "goodbye")


def change_language(agent: Agent, ctx: Ctx, inp: Input | None = None) -> None:
    """Switch at once when a language is named ("in Spanish please"), else offer the menu;
    either way the call then returns to the question it was at. Naming the call's own language
    ("no, en español") keeps it. A named language is the caller's choice: the flow at hand may
    take it as its answer (`language_named`: the offer of the account's language does)."""
    session = ctx.session
    code = language_in(agent, (inp.text if inp else None) or "", session.lang)
    if code is None:
        session.resume = (session.state, dict(session.ask_params))
        agent.registry.flows["language"].begin(ctx)
        return
    session.lang_chosen = True
    flow = agent.registry.flows.get(session.flow)
    answer = getattr(flow, "language_named", None)
    if answer is not None and answer(ctx, code):
        return
    kept = code == session.lang
    session.lang = code
    ctx.say("language_set" if kept else "language_changed")
    session.misses = 0
    ctx.reask()


def language_in(agent: Agent, text: str, lang: str) -> str | None:
    """A language named in the text, in the call's language or any other enabled one."""
    languages = agent.settings.languages
    for code in (lang, *[c for c in languages if c != lang]):
        value = agent.nlu.parse_value("language", text, code)
        if value in languages:
            return value
    return None


COMMANDS: dict[str, Callable[[Agent, Ctx, Input | None], None]] = {
    "repeat": repeat, "slower": slower, "help": help_here, "cancel": cancel,
    "goodbye": goodbye, "change_language": change_language,
}
