"""Verification before any account request: account number, then the PIN if the account has one,
else ZIP code and the last four digits of the SSN.

What the caller hears never depends on which detail was wrong or on whether the account exists:
an unknown account number is still asked for a PIN and then fails like a wrong PIN, and a locked
account fails the same way (the store refuses it). After `tries_per_call` failures the call ends
with the offer of a person. On success the remembered request continues, after offering the
account's own language if it differs from the call's.
"""
from __future__ import annotations

from voice_agent.dialogue.flow import Ctx, Flow, Input, Step
from voice_agent.dialogue.prompts import LanguageName
from voice_agent.dialogue.validators import (
    validate_account_number,
    validate_pin,
    validate_ssn_last4,
    validate_zip,
)


class VerifyFlow(Flow):
    name = "verify"
    steps = {
        "account_number": Step(expecting="account_number", prompt="verify_account",
                               help="verify_account_help", keypad="verify_account_keypad", readback="digits"),
        "pin": Step(expecting="pin", prompt="verify_pin", help="verify_pin_help",
                    keypad="verify_pin_keypad"),
        "zip": Step(expecting="zip", prompt="verify_zip", help="verify_zip_help",
                    keypad="verify_zip_keypad", readback="digits"),
        "ssn_last4": Step(expecting="ssn_last4", prompt="verify_ssn", help="verify_ssn_help",
                          keypad="verify_ssn_keypad"),
        "language_offer": Step(expecting="confirm", prompt="verify_language_offer",
                               help="verify_language_offer_help", keypad="yes_no_keypad"),
    }

    def begin(self, ctx: Ctx) -> None:
        ctx.say("verify_intro")
        given = ctx.session.slots.pop("account_number", None)
        number, _ = validate_account_number(given) if given else (None, None)
        if number:
            self._after_account(ctx, number)
        else:
            ctx.ask("verify.account_number")

    def on_account_number(self, ctx: Ctx, inp: Input) -> None:
        number, problem = validate_account_number(inp.value)
        if problem:
            ctx.miss(problem if inp.value else "no_match")
            return
        self._after_account(ctx, number)

    def _after_account(self, ctx: Ctx, number: str) -> None:
        ctx.session.slots["verify_number"] = number
        account = ctx.store.account(number)
        # A PIN said with the request ("... and my pin is 4 3 2 1") is used once, not asked for.
        given, _ = validate_pin(ctx.session.slots.pop("pin", None) or None)
        # Unknown numbers take the PIN path too, so the questions never reveal existence.
        if account is None or account.has_pin:
            if given:
                self._check(ctx, pin=given)
            else:
                ctx.ask("verify.pin")
        else:
            ctx.ask("verify.zip")

    def on_pin(self, ctx: Ctx, inp: Input) -> None:
        pin, problem = validate_pin(inp.value)
        if problem:
            ctx.miss(problem if inp.value else "no_match")
            return
        self._check(ctx, pin=pin)

    def on_zip(self, ctx: Ctx, inp: Input) -> None:
        zip_code, problem = validate_zip(inp.value)
        if problem:
            ctx.miss(problem if inp.value else "no_match")
            return
        ctx.session.slots["zip"] = zip_code
        ctx.ask("verify.ssn_last4")

    def on_ssn_last4(self, ctx: Ctx, inp: Input) -> None:
        last4, problem = validate_ssn_last4(inp.value)
        if problem:
            ctx.miss(problem if inp.value else "no_match")
            return
        self._check(ctx, zip=ctx.session.slots.pop("zip", None), ssn_last4=last4)

    def _check(self, ctx: Ctx, **secrets: str | None) -> None:
        session = ctx.session
        number = session.slots.pop("verify_number")
        result = ctx.store.verify(number, call_id=session.call_id, **secrets)
        if result.ok:
            session.account = number
            session.verify_failures = 0
            account = ctx.account(refresh=True)
            ctx.say("verify_ok", name=account.name.split()[0] if account.name else "")
            if account.language != session.lang and account.language in ctx.settings.languages:
                session.slots["offered_language"] = account.language
                ctx.ask("verify.language_offer", language=LanguageName(account.language))
            else:
                self._continue(ctx)
            return
        session.verify_failures += 1
        session.locked_seen = session.locked_seen or bool(result.locked)
        if session.verify_failures >= int(ctx.settings["lockout"]["tries_per_call"]):
            session.pending = None
            outcome = "locked_out" if session.locked_seen else "verification_failed"
            ctx.say("verify_failed_final")
            ctx.agent.escalate(ctx, outcome)
            return
        ctx.say("verify_failed")
        ctx.ask("verify.account_number")

    def on_language_offer(self, ctx: Ctx, inp: Input) -> None:
        offered = ctx.session.slots.pop("offered_language", None)
        if inp.yes and offered:
            ctx.session.lang = offered
            ctx.say("language_set")
        elif not inp.no:
            ctx.session.slots["offered_language"] = offered
            ctx.miss("no_match")
            return
        self._continue(ctx)

    def _continue(self, ctx: Ctx) -> None:
        pending = ctx.session.pending
        ctx.session.pending = None
        if pending:
            ctx.start(pending)
        else:
            ctx.ask("menu.intent")


FLOWS = [VerifyFlow()]
