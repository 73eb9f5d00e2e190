"""Scheduled payments: hear the ones on the account, cancel one, or schedule a new one.

A new payment is dated from tomorrow up to the due date, or up to settings["schedule"]
["max_days_ahead"] days ahead when that is set; then the amount, the method (the payment flow's
questions), a read-back and an explicit yes. The store posts it on its date
(`voice-agent payments run-scheduled`).
"""
from __future__ import annotations

import datetime as dt

from voice_agent.dialogue.flow import Ctx, Flow, Input, Step
from voice_agent.dialogue.flows.consent import answer_consent, submit
from voice_agent.dialogue.flows.method import as_of
from voice_agent.dialogue.flows.payment import describe
from voice_agent.dialogue.flows.picking import pick_index
from voice_agent.dialogue.flows.summary import note
from voice_agent.dialogue.prompts import Money, Prompt, Spelled
from voice_agent.dialogue.validators import only_digits, validate_amount


def _yes_no(expecting: str, name: str, **kw) -> Step:
    return Step(expecting=expecting, prompt=f"schedule_{name}", help=f"schedule_{name}_help",
                keypad="yes_no_keypad", **kw)


class ScheduleFlow(Flow):
    name = "schedule"
    intents = ("schedule_payment",)
    needs_account = True
    menu_key = "4"
    steps = {
        "cancel_offer": _yes_no("confirm", "cancel_offer"),
        "cancel_which": Step(expecting="installments", prompt="schedule_cancel_which",
                             help="schedule_cancel_which_help",
                             keypad="schedule_cancel_which_keypad"),
        "cancel_confirm": _yes_no("confirm", "cancel_confirm", strict=True),
        "new_offer": _yes_no("confirm", "new_offer"),
        "date": Step(expecting="date", prompt="schedule_date", help="schedule_date_help",
                     keypad="schedule_date_keypad"),
        "amount": Step(expecting="amount", prompt="schedule_amount", help="schedule_amount_help",
                       keypad="schedule_amount_keypad", readback="amount"),
        "confirm": _yes_no("confirm", "confirm", strict=True,
                           corrects=("amount", "date", "paymethod.method")),
    }

    # -- what is scheduled already ----------------------------------------------------------------
    def begin(self, ctx: Ctx) -> None:
        # An amount said with the request ("schedule fifty dollars") is read back after the date;
        # a date said with it ("... for friday") answers the date question.
        given = ctx.session.slots.pop("amount", None)
        given_date = ctx.session.slots.pop("date", None)
        ctx.session.slots.pop("schedule_given", None)
        if isinstance(given, int) and not isinstance(given, bool):
            ctx.session.slots["schedule_given"] = given
        if isinstance(given_date, dt.date):
            self._given_date(ctx, given_date)   # clearly a new payment: no detour
            return
        scheduled = ctx.store.scheduled_payments(ctx.session.account)
        if not scheduled:
            if "schedule_given" in ctx.session.slots:   # clearly a new payment: no detour
                self._ask_date(ctx)
                return
            ctx.say("schedule_none")
            ctx.ask("schedule.new_offer")
            return
        if len(scheduled) == 1:
            ctx.say("schedule_list_one")
        else:
            ctx.say("schedule_list", count=len(scheduled))
        for number, payment in enumerate(scheduled, start=1):
            ctx.say("schedule_item_installment" if payment.arrangement_id else "schedule_item",
                    number=number, amount=Money(payment.amount_cents + payment.fee_cents),
                    date=payment.scheduled_for, code=Spelled(payment.confirmation))
        ctx.ask("schedule.cancel_offer")

    def on_cancel_offer(self, ctx: Ctx, inp: Input) -> None:
        if inp.yes:
            count = len(ctx.store.scheduled_payments(ctx.session.account))
            if count == 1:
                self._ask_cancel_confirm(ctx, 0)
            else:
                ctx.ask("schedule.cancel_which", count=count)
        elif inp.no:
            ctx.ask("schedule.new_offer")
        else:
            ctx.miss("no_match")

    def on_cancel_which(self, ctx: Ctx, inp: Input) -> None:
        count = len(ctx.store.scheduled_payments(ctx.session.account))
        index = pick_index(ctx, inp, count)
        if index is None:
            ctx.miss("no_match")
            return
        self._ask_cancel_confirm(ctx, index)

    def _ask_cancel_confirm(self, ctx: Ctx, index: int) -> None:
        payment = ctx.store.scheduled_payments(ctx.session.account)[index]
        ctx.session.slots["schedule_cancel"] = payment.confirmation
        warning = (Prompt("schedule_cancel_installment_warning", {}) if payment.arrangement_id
                   else Prompt("schedule_blank", {}))
        ctx.ask("schedule.cancel_confirm", amount=Money(payment.amount_cents + payment.fee_cents),
                date=payment.scheduled_for, warning=warning)

    def on_cancel_confirm(self, ctx: Ctx, inp: Input) -> None:
        code = ctx.session.slots.get("schedule_cancel")
        if inp.value == "yes" or inp.dtmf == "1":
            ctx.session.slots.pop("schedule_cancel", None)
            if ctx.store.cancel_payment(ctx.session.account, code):
                ctx.say("schedule_cancelled", code=Spelled(code))
                note(ctx, "summary_cancelled", code=Spelled(code))
                ctx.finish(f"cancelled {code}")
            else:
                ctx.say("schedule_cancel_gone")
                ctx.finish()
        elif inp.no:
            ctx.say("schedule_cancel_kept")
            ctx.finish()
        else:
            ctx.miss("no_match")

    # -- a new scheduled payment ------------------------------------------------------------------
    def on_new_offer(self, ctx: Ctx, inp: Input) -> None:
        if inp.yes:
            self._ask_date(ctx)
        elif inp.no:
            ctx.finish()
        else:
            ctx.miss("no_match")

    def _window(self, ctx: Ctx) -> tuple[dt.date, dt.date | None]:
        first = ctx.today + dt.timedelta(days=1)
        ahead = int(ctx.settings["schedule"]["max_days_ahead"])
        last = ctx.today + dt.timedelta(days=ahead) if ahead else ctx.account().due_date
        return first, last

    def _ask_date(self, ctx: Ctx) -> None:
        first, last = self._window(ctx)
        if last is None or last < first:
            ctx.say("schedule_no_room")
            ctx.finish()
            return
        ctx.ask("schedule.date", first=first, last=last)

    def _given_date(self, ctx: Ctx, when: dt.date) -> None:
        """A date heard with the request: taken when it can be scheduled, else the question is
        asked with the reason (the read-back before the yes names the date either way)."""
        first, last = self._window(ctx)
        if last is not None and first <= when <= last:
            self._take_date(ctx, when)
            return
        if last is not None and last >= first:
            ctx.say("schedule_date_outside")
        self._ask_date(ctx)

    def on_date(self, ctx: Ctx, inp: Input) -> None:
        when = inp.value if isinstance(inp.value, dt.date) else None
        if when is None and inp.dtmf is not None:
            when = _keyed_date(inp.dtmf, ctx.today)
        if when is None:
            ctx.miss("no_match")
            return
        first, last = self._window(ctx)
        if not first <= when <= last:
            ctx.miss("schedule_date_outside")
            return
        self._take_date(ctx, when)

    def _take_date(self, ctx: Ctx, when: dt.date) -> None:
        ctx.session.slots["schedule_date"] = when
        account = ctx.account(refresh=True)
        params = {"date": when, "balance": Money(max(0, account.balance_cents))}
        given = ctx.session.slots.pop("schedule_given", None)
        if ctx.correcting and "schedule_amount" in ctx.session.slots:
            self.method_ready(ctx)   # the date changed at the read-back: read back again
            return
        if given is None:
            ctx.ask("schedule.amount", **params)
            return
        # The amount heard with the request is confirmed before it is used (the engine's read-back).
        session = ctx.session
        session.state, session.ask_params, session.misses = "schedule.amount", params, 0
        session.unsure = ("schedule.amount", given)
        ctx.say("readback_amount", value=Money(given))

    def on_amount(self, ctx: Ctx, inp: Input) -> None:
        account = ctx.account()
        cents = inp.value if isinstance(inp.value, int) else None
        if inp.dtmf is not None:
            digits = only_digits(inp.dtmf)
            cents = account.balance_cents if digits == "1" else int(digits) if digits else None
        elif cents is None and ctx.choice(inp, "amount_choice") == "full":
            cents = account.balance_cents
        elif cents is None and ctx.choice(inp, "amount_choice") == "past_due":
            cents = account.past_due_cents
        if cents is None or cents <= 0:
            ctx.miss("no_match")
            return
        amount, problem = validate_amount(cents, ctx.settings["payment_limits"])
        if problem:
            ctx.miss(problem)
            return
        ctx.session.slots["schedule_amount"] = amount
        ctx.agent.registry.flows["paymethod"].collect(ctx, self.name)

    def method_ready(self, ctx: Ctx) -> None:
        slots = ctx.session.slots
        method = slots["method"]
        amount = int(slots["schedule_amount"])
        fee = ctx.settings.fee_cents(method.kind)
        slots["schedule_fee"] = fee
        slots["schedule_key"] = f"call-{ctx.session.call_id}-schedule-{ctx.session.submit_seq + 1}"
        fee_text = Prompt("pay_fee", {"fee": Money(fee)}) if fee else Prompt("pay_no_fee", {})
        ctx.ask("schedule.confirm", date=slots["schedule_date"], amount=Money(amount),
                fee=fee_text, total=Money(amount + fee), method=describe(method))

    def on_confirm(self, ctx: Ctx, inp: Input) -> None:
        answer_consent(ctx, inp, self._post, declined="schedule_not_made")

    def _post(self, ctx: Ctx) -> None:
        session = ctx.session
        slots = session.slots
        when = slots["schedule_date"]
        result = submit(ctx, lambda: ctx.store.post_payment(
            session.account, int(slots["schedule_amount"]), int(slots["schedule_fee"]),
            slots["method"], slots["schedule_key"], call_id=session.call_id,
            scheduled_for=when, now=as_of(ctx)), failed="schedule_failed")
        if result is None:
            return
        payment = result.payment
        total = Money(payment.amount_cents + payment.fee_cents)
        ctx.say("schedule_done", amount=total, date=when, code=Spelled(payment.confirmation))
        note(ctx, "summary_scheduled", amount=total, date=when,
             code=Spelled(payment.confirmation))
        ctx.finish(f"scheduled {payment.confirmation}")


def _keyed_date(keys: str, today: dt.date) -> dt.date | None:
    """A date keyed as MMDD (the next such day from today)."""
    digits = only_digits(keys)
    if len(digits) != 4:
        return None
    try:
        when = dt.date(today.year, int(digits[:2]), int(digits[2:]))
    except ValueError:
        return None
    return when if when > today else when.replace(year=today.year + 1)


FLOWS = [ScheduleFlow()]
