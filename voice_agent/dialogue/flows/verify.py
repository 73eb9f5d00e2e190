"""Verification before any account request: account number, then the PIN if the account has one,
else ZIP code and the last four digits of the SSN.

What the caller hears never depends on which detail was wrong or on whether the account exists:
an unknown account number is still asked for a PIN and then fails like a wrong PIN. A caller who
does not remember the PIN ("I forgot my PIN", locales/<lang>/choices_conv_c.toml) is offered the
ZIP code and the last four of the SSN instead - unknown numbers too, so the offer reveals nothing -
or, when the account has no SSN on file, a callback. A locked number (the store's lockout; unknown
numbers lock the same way) is told plainly that phone access is paused and until what local time:
when the lock is found it is offered a callback, and the failure that sets it says so before
asking for the account number again (the caller may have given a wrong one). After
`tries_per_call` failures the call ends with the offer of a person. On success the remembered
request continues, after offering the account's own language if it differs from the call's and
the caller has not chosen a language.
"""
from __future__ import annotations

from voice_agent.dialogue.flow import Ctx, Flow, Input, Step
from voice_agent.dialogue.prompts import LanguageName, When
from voice_agent.dialogue.validators import (
    validate_account_number,
    validate_pin,
    validate_ssn_last4,
    validate_zip,
)

# locales/<lang>/choices_conv_c.toml: what a caller says who does not remember the PIN.
FORGOT_CHOICES = "pin_forgotten"
# Session slot: the account's language, offered after verification and not yet answered.
OFFER_SLOT = "offered_language"


class VerifyFlow(Flow):
    name = "verify"
    steps = {
        "account_number": Step(expecting="account_number", prompt="verify_account",
                               help="verify_account_help", keypad="verify_account_keypad", readback="digits"),
        "pin": Step(expecting="pin", prompt="verify_pin", help="verify_pin_help",
                    keypad="verify_pin_keypad", choices=FORGOT_CHOICES),
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
            if not inp.value and ctx.choice(inp, self.steps["pin"].choices):
                self._without_pin(ctx)
                return
            ctx.miss(problem if inp.value else "no_match")
            return
        self._check(ctx, pin=pin)

    def _without_pin(self, ctx: Ctx) -> None:
        """The caller does not remember the PIN: ZIP + SSN last four when they can verify, else a
        representative (who calls back offline)."""
        account = ctx.store.account(ctx.session.slots["verify_number"])
        if account is None or account.has_ssn:
            ctx.say("verify_pin_alternative")
            ctx.ask("verify.zip")
            return
        ctx.session.slots.pop("verify_number", None)
        ctx.session.pending = None
        ctx.say("verify_no_alternative")
        ctx.start("agent")

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
        was_locked = ctx.store.is_locked(number)
        result = ctx.store.verify(number, call_id=session.call_id, **secrets)
        if result.ok:
            session.account = number
            session.verify_failures = 0
            account = ctx.account(refresh=True)
            ctx.say("verify_ok", name=account.name.split()[0] if account.name else "")
            if (account.language != session.lang and account.language in ctx.settings.languages
                    and not session.lang_chosen):
                session.slots[OFFER_SLOT] = account.language
                ctx.ask("verify.language_offer", language=LanguageName(account.language))
            else:
                self._continue(ctx)
            return
        session.verify_failures += 1
        session.locked_seen = session.locked_seen or bool(result.locked)
        until = When(result.locked_until) if result.locked and result.locked_until else None
        if session.verify_failures >= int(ctx.settings["lockout"]["tries_per_call"]):
            session.pending = None
            outcome = "locked_out" if session.locked_seen else "verification_failed"
            ctx.say("verify_failed_final")
            if until:
                ctx.say("verify_locked_until", until=until)
            ctx.agent.escalate(ctx, outcome)
            return
        if until and was_locked:
            # Asking again cannot help until the lock ends: say so, and offer a callback.
            session.pending = None
            ctx.say("verify_locked", until=until)
            ctx.start("agent")
            return
        if until:
            ctx.say("verify_locked_now", until=until)
        else:
            ctx.say("verify_failed")
        ctx.ask("verify.account_number")

    def language_named(self, ctx: Ctx, code: str) -> bool:
        """A language named while the account's language is on offer answers the offer: the
        offered one takes it, the call's own ("no, in Spanish") keeps it, another switches."""
        session = ctx.session
        if session.state != "verify.language_offer":
            return False
        session.slots.pop(OFFER_SLOT, None)
        session.lang = code
        ctx.say("language_set")
        self._continue(ctx)
        return True

    def on_language_offer(self, ctx: Ctx, inp: Input) -> None:
        offered = ctx.session.slots.pop(OFFER_SLOT, None)
        if inp.yes and offered:
            ctx.session.lang = offered
            ctx.say("language_set")
        elif not inp.no:
            ctx.session.slots[OFFER_SLOT] = offered
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
