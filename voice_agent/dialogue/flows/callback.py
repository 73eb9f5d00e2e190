"""Asking for a person: a transfer when the line can transfer, else a callback request.

When settings["transfer_target"] holds a SIP URI the turn carries it (`AgentTurn.transfer`) and
the call ends "transferred". Offline there is nobody to transfer to, so the caller is offered a
callback: the number to call (the caller ID once the caller confirms it, or one they give), a
preferred window from settings["callback_windows"], and a reference number. Registered for the
"agent" intent after the hand-off flow, so it replaces it; `escalate` is what the engine calls
after repeated misses or failed verification.
"""
from __future__ import annotations

import logging

from voice_agent.dialogue.flow import Ctx, Input, Step
from voice_agent.dialogue.flows.handoff import HandoffFlow
from voice_agent.dialogue.flows.summary import note, reference
from voice_agent.dialogue.prompts import Digits, Prompt, PromptError
from voice_agent.dialogue.validators import only_digits

log = logging.getLogger(__name__)
# A callback number: a national number of 10 digits, or an international one up to 15.
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 10, 15


def valid_phone(value) -> str | None:
    digits = only_digits(str(value or ""))
    return digits if MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS else None


def phone_words(digits: str) -> Digits:
    """A phone number as a listener follows it: 803 555 0100 (the country code dropped)."""
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return Digits(digits)


def _yes_no(name: str) -> Step:
    return Step(expecting="confirm", prompt=f"callback_{name}", help=f"callback_{name}_help",
                keypad="yes_no_keypad")


class CallbackFlow(HandoffFlow):
    """The hand-off with a callback offer in front of "nobody is available"."""

    name = "callback"
    intents = ("agent",)
    menu_key = "0"
    interrupts = True
    steps = {
        "offer": _yes_no("offer"),
        "phone_confirm": _yes_no("phone_confirm"),
        "phone": Step(expecting="phone_number", prompt="callback_phone",
                      help="callback_phone_help", keypad="callback_phone_keypad",
                      readback="digits"),
        "window": Step(expecting="callback_window", prompt="callback_window",
                       help="callback_window_help", keypad="callback_window_keypad"),
        "continue": _yes_no("continue"),
    }

    def begin(self, ctx: Ctx) -> None:
        target = ctx.settings.get("transfer_target") or ""
        if target:
            self._transfer(ctx, target)
            return
        ctx.say("callback_unavailable")
        ctx.ask("callback.offer")

    def on_offer(self, ctx: Ctx, inp: Input) -> None:
        if inp.yes:
            caller = valid_phone(ctx.session.caller_id)
            if caller:
                ctx.session.slots["callback_phone"] = caller
                ctx.ask("callback.phone_confirm", phone=phone_words(caller))
            else:
                ctx.ask("callback.phone")
        elif inp.no:
            ctx.ask("callback.continue")
        else:
            ctx.miss("no_match")

    def on_phone_confirm(self, ctx: Ctx, inp: Input) -> None:
        if inp.yes:
            self._ask_window(ctx)
        elif inp.no:
            ctx.session.slots.pop("callback_phone", None)
            ctx.ask("callback.phone")
        else:
            ctx.miss("no_match")

    def on_phone(self, ctx: Ctx, inp: Input) -> None:
        phone = valid_phone(inp.value)
        if phone is None:
            ctx.miss("callback_phone_invalid" if inp.value else "no_match")
            return
        ctx.session.slots["callback_phone"] = phone
        self._ask_window(ctx)

    # -- the window ---------------------------------------------------------------------------------
    def _windows(self, ctx: Ctx) -> list[str]:
        """The configured windows this language can name (a window needs its prompt
        `callback_window_<key>` in every language; one without is left out, with a warning)."""
        windows = []
        for key in (str(w) for w in ctx.settings["callback_windows"]):
            try:
                ctx.agent.prompts.text(ctx.lang, f"callback_window_{key}")
            except PromptError:
                log.warning("callback window %r has no prompt in %s; not offered", key, ctx.lang)
                continue
            windows.append(key)
        return windows

    def _ask_window(self, ctx: Ctx) -> None:
        options = [Prompt("callback_window_option",
                          {"window": Prompt(f"callback_window_{key}", {}), "digit": digit})
                   for digit, key in enumerate(self._windows(ctx), start=1)]
        ctx.ask("callback.window", options=options)

    def on_window(self, ctx: Ctx, inp: Input) -> None:
        windows = self._windows(ctx)
        window = None
        if inp.dtmf is not None:
            if inp.dtmf.isdigit() and 1 <= int(inp.dtmf) <= len(windows):
                window = windows[int(inp.dtmf) - 1]
        elif inp.text:
            said = ctx.choice(inp, "callback_window")
            window = said if said in windows else None
        if window is None:
            ctx.miss("no_match")
            return
        self._book(ctx, window)

    def _book(self, ctx: Ctx, window: str) -> None:
        session = ctx.session
        phone = session.slots.pop("callback_phone")
        about = session.resume[0].split(".")[0] if session.resume else None
        session.resume = None
        code = ctx.store.request_callback(phone, window, account_number=session.account,
                                          call_id=session.call_id, reason=about)
        ctx.say("callback_booked", phone=phone_words(phone),
                window=Prompt(f"callback_window_{window}", {}), reference=reference(code))
        note(ctx, "summary_callback", reference=reference(code),
             window=Prompt(f"callback_window_{window}", {}))
        ctx.finish(f"callback {code}")

    # "continue", `escalate` and the transfer are the hand-off flow's own (inherited).


FLOWS = [CallbackFlow()]
