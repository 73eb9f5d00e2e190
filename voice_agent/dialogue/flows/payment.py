"""Taking a payment, form-style: amount, method, card or bank details, read-back, explicit yes.

Slots: amount (full balance, past-due amount or another amount within settings limits), method
(saved method on file, card, or bank account), the card number (Luhn, brand) and expiry (not in
the past), or the routing number (ABA checksum) and account number. The read-back gives amount,
convenience fee (settings), total and method by its last four digits; only an explicit yes posts
the payment, with an idempotency key made from the call id and the attempt number so that a
retried submission never posts twice. Card and bank numbers leave memory right after posting.
"""
from __future__ import annotations

import datetime as dt

from voice_agent.cards import card_brand
from voice_agent.dialogue.flow import Ctx, Flow, Input, Step, most_specific_choice
from voice_agent.dialogue.flows.consent import answer_consent, submit
from voice_agent.dialogue.flows.summary import note, reference
from voice_agent.dialogue.prompts import Digits, Money, Prompt, Spelled, When
from voice_agent.dialogue.validators import (
    only_digits,
    validate_amount,
    validate_bank_account_number,
    validate_card_expiry,
    validate_card_number,
    validate_routing_number,
)

BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express",
          "discover": "Discover"}
AMOUNT_KEYS = {"1": "full", "2": "past_due", "3": "other"}
METHOD_KEYS = {"1": "card", "2": "bank", "3": "saved"}
# "Would you like me to repeat the confirmation code?" is asked at most this many times (issue 12:
# an offer to repeat never loops); after the last repeat the call moves on.
CODE_OFFERS = 2
# Session slot: the method named along with the amount (a choice key), used instead of asking.
METHOD_SAID = "method_said"


def _step(expecting: str, name: str, **kw) -> Step:
    return Step(expecting=expecting, prompt=f"pay_{name}", help=f"pay_{name}_help",
                keypad=f"pay_{name}_keypad", **kw)


class PaymentFlow(Flow):
    name = "payment"
    intents = ("pay_bill",)
    needs_account = True
    menu_key = "2"
    steps = {
        "amount": _step("amount", "amount", readback="amount"),
        "amount_other": _step("amount", "amount_other", readback="amount"),
        "method": _step("payment_method", "method", choices="payment_method"),
        "card_number": _step("card_number", "card_number"),
        "card_expiry": _step("card_expiry", "card_expiry"),
        "routing_number": _step("routing_number", "routing_number"),
        "bank_account_number": _step("bank_account_number", "bank_account_number"),
        "confirm": Step(expecting="confirm", prompt="pay_confirm", help="pay_confirm_help",
                        keypad="yes_no_keypad", strict=True,
                        recheck="pay_confirm_recheck", corrects=("amount", "method")),
        "repeat_code": Step(expecting="confirm", prompt="pay_repeat_code",
                            help="pay_repeat_code_help", keypad="yes_no_keypad",
                            repeat_is_yes=True),
    }

    # -- amount -----------------------------------------------------------------------------------
    def begin(self, ctx: Ctx) -> None:
        account = ctx.account(refresh=True)
        given = ctx.session.slots.pop("amount", None)
        if account.balance_cents <= 0 and not isinstance(given, int):
            ctx.say("pay_nothing_due")
            self._ask_other(ctx)
            return
        past_due_option = 0 < account.past_due_cents < account.balance_cents
        options = (Prompt("pay_amount_options_past_due", {"past_due": Money(account.past_due_cents)})
                   if past_due_option else Prompt("pay_amount_options", {}))
        # The keypad offer lists the same choices as the spoken one (no key 2 without a past due).
        keys = Prompt("pay_amount_keys_past_due" if past_due_option else "pay_amount_keys", {})
        params = {"balance": Money(account.balance_cents), "options": options, "keys": keys}
        if isinstance(given, int):
            # An amount heard in passing ("pay fifty dollars") is confirmed before it is used.
            ctx.session.state = "payment.amount"
            ctx.session.ask_params = params
            ctx.session.misses = 0
            ctx.session.unsure = ("payment.amount", given)
            ctx.session.note_asked("payment.amount", params)   # "go back" returns here
            ctx.say("readback_amount", value=Money(given))
            return
        ctx.ask("payment.amount", **params)

    def on_amount(self, ctx: Ctx, inp: Input) -> None:
        account = ctx.account()
        note_method(ctx, inp.text)
        choice = AMOUNT_KEYS.get(inp.dtmf or "") if inp.dtmf else None
        if inp.dtmf is None:
            if isinstance(inp.value, int):
                self._take_amount(ctx, inp.value)
                return
            choice = ctx.choice(inp, "amount_choice")
        if choice == "full":
            self._take_amount(ctx, account.balance_cents)
        elif choice == "past_due" and account.past_due_cents > 0:
            self._take_amount(ctx, account.past_due_cents)
        elif choice == "other":
            self._ask_other(ctx)
        else:
            ctx.miss("no_match")

    def _ask_other(self, ctx: Ctx) -> None:
        limits = ctx.settings["payment_limits"]
        ctx.ask("payment.amount_other", min=Money(int(limits["min_cents"])),
                max=Money(int(limits["max_cents"])))

    def on_amount_other(self, ctx: Ctx, inp: Input) -> None:
        note_method(ctx, inp.text)
        cents = inp.value
        if inp.dtmf is not None:  # keyed as dollars and cents without a point: 5000 is $50.00
            digits = only_digits(inp.dtmf)
            cents = int(digits) if digits else None
        if cents is None:
            ctx.miss("no_match")
            return
        self._take_amount(ctx, cents)

    def _take_amount(self, ctx: Ctx, cents: int) -> bool:
        amount, problem = validate_amount(cents, ctx.settings["payment_limits"])
        if problem:
            # Out of limits: continue at "another amount", whose help states the limits.
            limits = ctx.settings["payment_limits"]
            if ctx.session.state != "payment.amount_other":
                ctx.session.state = "payment.amount_other"
                ctx.session.misses = 0
                ctx.session.ask_params = {"min": Money(int(limits["min_cents"])),
                                          "max": Money(int(limits["max_cents"]))}
            ctx.miss(problem)
            return False
        ctx.session.slots["amount"] = amount
        if ctx.correcting and ctx.session.slots.get("method") is not None:
            self._ask_confirm(ctx)   # the amount changed at the read-back: read back again
        else:
            self._ask_method(ctx)
        return True

    # -- method -----------------------------------------------------------------------------------
    def _ask_method(self, ctx: Ctx) -> None:
        said = ctx.session.slots.pop(METHOD_SAID, None)
        if said is not None and (said != "saved" or self._saved(ctx) is not None):
            self._choose_method(ctx, said)
            return
        saved = self._saved(ctx)
        fees = {f"{kind}_fee": fee_text(ctx.settings.fee_cents(kind)) for kind in ("card", "bank")}
        option = (Prompt("pay_method_saved_option", {"method": describe(saved)}) if saved
                  else Prompt("pay_method_no_saved", {}))
        ctx.ask("payment.method", saved=option, **fees)

    def _saved(self, ctx: Ctx):
        methods = list(getattr(ctx.account(), "saved_methods", None) or [])
        return methods[0] if methods else None

    def on_method(self, ctx: Ctx, inp: Input) -> None:
        choice = METHOD_KEYS.get(inp.dtmf or "") if inp.dtmf else ctx.choice(inp, "payment_method")
        self._choose_method(ctx, choice)

    def _choose_method(self, ctx: Ctx, choice: str | None) -> None:
        if choice == "saved" and self._saved(ctx) is not None:
            ctx.session.slots["method"] = self._saved(ctx)
            self._ask_confirm(ctx)
        elif choice == "card":
            ctx.ask("payment.card_number")
        elif choice == "bank":
            ctx.ask("payment.routing_number")
        else:
            ctx.miss("no_match")

    # -- card -------------------------------------------------------------------------------------
    def on_card_number(self, ctx: Ctx, inp: Input) -> None:
        number, problem = validate_card_number(inp.value)
        if problem:
            ctx.miss(problem if inp.value else "no_match")
            return
        ctx.session.slots["card_number"] = number
        ctx.ask("payment.card_expiry")

    def on_card_expiry(self, ctx: Ctx, inp: Input) -> None:
        expiry, problem = validate_card_expiry(inp.value, ctx.today)
        if problem:
            ctx.miss(problem if inp.value else "no_match")
            return
        from voice_agent.store import PaymentMethod
        number = ctx.session.slots.pop("card_number")
        month, year = expiry
        ctx.session.slots["method"] = PaymentMethod(
            kind="card", last4=number[-4:], brand=card_brand(number), number=number,
            expiry=f"{month:02d}/{year % 100:02d}")
        self._ask_confirm(ctx)

    # -- bank -------------------------------------------------------------------------------------
    def on_routing_number(self, ctx: Ctx, inp: Input) -> None:
        routing, problem = validate_routing_number(inp.value)
        if problem:
            ctx.miss(problem if inp.value else "no_match")
            return
        ctx.session.slots["routing_number"] = routing
        ctx.ask("payment.bank_account_number")

    def on_bank_account_number(self, ctx: Ctx, inp: Input) -> None:
        number, problem = validate_bank_account_number(inp.value)
        if problem:
            ctx.miss(problem if inp.value else "no_match")
            return
        from voice_agent.store import PaymentMethod
        routing = ctx.session.slots.pop("routing_number")
        ctx.session.slots["method"] = PaymentMethod(kind="bank", last4=number[-4:],
                                                    number=number, routing=routing)
        self._ask_confirm(ctx)

    # -- read-back, consent, posting ----------------------------------------------------------------
    def _ask_confirm(self, ctx: Ctx) -> None:
        session = ctx.session
        method = session.slots["method"]
        amount = int(session.slots["amount"])
        fee = ctx.settings.fee_cents(method.kind)
        session.slots["fee"] = fee
        # One key per attempt: a re-delivered "yes" reuses it, a new attempt gets a new one.
        session.slots["idempotency_key"] = f"call-{session.call_id}-payment-{session.submit_seq + 1}"
        fee_text = (Prompt("pay_fee", {"fee": Money(fee)}) if fee
                    else Prompt("pay_no_fee", {}))
        ctx.ask("payment.confirm", amount=Money(amount), fee=fee_text, total=Money(amount + fee),
                method=describe(method))

    def on_confirm(self, ctx: Ctx, inp: Input) -> None:
        answer_consent(ctx, inp, self._post, declined="pay_not_submitted")

    def _post(self, ctx: Ctx) -> None:
        session = ctx.session
        slots = session.slots
        amount, fee = int(slots["amount"]), int(slots["fee"])
        result = submit(ctx, lambda: ctx.store.post_payment(
            session.account, amount, fee, slots["method"], slots["idempotency_key"],
            call_id=session.call_id), failed="pay_failed")
        if result is None:
            return
        for key in ("amount", "fee", "idempotency_key"):
            slots.pop(key, None)
        payment = result.payment
        if payment.confirmation not in session.payments:
            session.payments.append(payment.confirmation)
        slots["last_confirmation"] = payment.confirmation
        slots["code_offers"] = 1
        ctx.say("pay_done", total=Money(payment.amount_cents + payment.fee_cents))
        ctx.say("pay_code", code=Spelled(payment.confirmation))
        ctx.say("pay_when", when=When(_moment(payment.created_at)))
        if result.restored:
            # When service comes back, as the restore flow says it (the same setting).
            ctx.say("pay_restored", hours=int(ctx.settings["restore_within_hours"]))
            if result.ticket:
                ctx.say("pay_restored_ticket", ticket=Spelled(result.ticket))
                note(ctx, "summary_ticket", ticket=reference(result.ticket))
        else:
            account = ctx.account(refresh=True)
            if account.status == "suspended" and account.past_due_cents > 0:
                ctx.say("pay_still_suspended", amount=Money(account.past_due_cents))
        ctx.ask("payment.repeat_code")

    def on_repeat_code(self, ctx: Ctx, inp: Input) -> None:
        slots = ctx.session.slots
        if inp.yes:
            ctx.say("pay_code", code=Spelled(slots["last_confirmation"]))
            if slots.get("code_offers", 0) >= CODE_OFFERS:
                ctx.finish("payment")
                return
            slots["code_offers"] = slots.get("code_offers", 0) + 1
            ctx.ask("payment.repeat_code")
        elif inp.no:
            ctx.finish("payment")
        else:
            ctx.miss("no_match")


def note_method(ctx: Ctx, text: str | None) -> None:
    """"Fifty dollars on my saved card", "I want to pay with my card": a way to pay named word
    for word with the amount or the request is kept until the method question, which is then
    not asked. Words that name none ("yes" to "I heard $50.00") keep what was named before."""
    table = ctx.nlu.choices(ctx.lang, "payment_method")
    said = most_specific_choice(text, table, ctx.language.joined_words) if text else None
    if said is not None:
        ctx.session.slots[METHOD_SAID] = said


def fee_text(cents: int) -> Prompt:
    """The convenience fee as a phrase ("there is a convenience fee of $2.50" / "no fee")."""
    return Prompt("fee_is", {"fee": Money(cents)}) if cents else Prompt("fee_none", {})


def describe(method) -> Prompt:
    """A payment method as the caller hears it: brand or bank and the last four digits only."""
    last4 = Digits(str(method.last4 or "")[-4:], group=4)
    if method.kind == "card":
        return Prompt("method_card", {"brand": BRANDS.get(method.brand or "", method.brand or ""),
                                      "last4": last4})
    return Prompt("method_bank", {"last4": last4})


def _moment(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


FLOWS = [PaymentFlow()]
