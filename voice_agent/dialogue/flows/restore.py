"""Restoring a suspended service: why it is suspended, what restores it, and paying that now.

The amount that restores service is the past-due balance (disputed charges already held out by
the store). The caller goes straight on to the payment method (the payment flow's questions), a
read-back and an explicit yes; the store restores the account when the past-due balance is paid
and opens the restoration ticket, and the caller hears the ticket and when service comes back
(settings["restore_within_hours"]). A suspended account with nothing left past due (everything
disputed) gets a restoration ticket without a payment.
"""
from __future__ import annotations

from voice_agent.dialogue.flow import Ctx, Flow, Input, Step
from voice_agent.dialogue.flows.consent import answer_consent, submit
from voice_agent.dialogue.flows.payment import describe
from voice_agent.dialogue.flows.summary import note, reference
from voice_agent.dialogue.prompts import Money, Prompt, Spelled


class RestoreFlow(Flow):
    name = "restore"
    intents = ("restore_service",)
    needs_account = True
    menu_key = "7"
    steps = {
        "offer": Step(expecting="confirm", prompt="restore_offer", help="restore_offer_help",
                      keypad="yes_no_keypad"),
        "confirm": Step(expecting="confirm", prompt="restore_confirm", help="restore_confirm_help",
                        keypad="yes_no_keypad", strict=True, corrects=("paymethod.method",)),
    }

    def begin(self, ctx: Ctx) -> None:
        account = ctx.account(refresh=True)
        hours = int(ctx.settings["restore_within_hours"])
        if account.status != "suspended":
            ctx.say("restore_not_suspended")
            ctx.finish()
            return
        if account.past_due_cents <= 0:
            ticket = ctx.store.open_ticket(account.number, "restoration",
                                           "nothing past due after disputes: restore service",
                                           call_id=ctx.session.call_id)
            ctx.say("restore_ticket_only", ticket=reference(ticket), hours=hours)
            note(ctx, "summary_ticket", ticket=reference(ticket))
            ctx.finish(f"ticket {ticket}")
            return
        ctx.say("restore_why", amount=Money(account.past_due_cents))
        if account.disputed_cents:
            ctx.say("restore_disputed_held", amount=Money(account.disputed_cents))
        ctx.ask("restore.offer", amount=Money(account.past_due_cents))

    def on_offer(self, ctx: Ctx, inp: Input) -> None:
        if inp.yes:
            ctx.session.slots["restore_amount"] = ctx.account(refresh=True).past_due_cents
            ctx.agent.registry.flows["paymethod"].collect(ctx, self.name)
        elif inp.no:
            ctx.say("restore_other_ways")
            ctx.finish()
        else:
            ctx.miss("no_match")

    def method_ready(self, ctx: Ctx) -> None:
        session = ctx.session
        method = session.slots["method"]
        amount = int(session.slots["restore_amount"])
        fee = ctx.settings.fee_cents(method.kind)
        session.slots["restore_fee"] = fee
        session.slots["restore_key"] = f"call-{session.call_id}-restore-{session.submit_seq + 1}"
        fee_text = Prompt("pay_fee", {"fee": Money(fee)}) if fee else Prompt("pay_no_fee", {})
        ctx.ask("restore.confirm", amount=Money(amount), fee=fee_text, total=Money(amount + fee),
                method=describe(method))

    def on_confirm(self, ctx: Ctx, inp: Input) -> None:
        answer_consent(ctx, inp, self._post, declined="pay_not_submitted")

    def _post(self, ctx: Ctx) -> None:
        session = ctx.session
        slots = session.slots
        result = submit(ctx, lambda: ctx.store.post_payment(
            session.account, int(slots["restore_amount"]), int(slots["restore_fee"]),
            slots["method"], slots["restore_key"], call_id=session.call_id), failed="pay_failed")
        if result is None:
            return
        payment = result.payment
        if payment.confirmation not in session.payments:
            session.payments.append(payment.confirmation)
        ctx.say("restore_paid", total=Money(payment.amount_cents + payment.fee_cents),
                code=Spelled(payment.confirmation))
        hours = int(ctx.settings["restore_within_hours"])
        done = "restore"
        if result.restored:
            ctx.say("restore_now_active", hours=hours)
            if result.ticket:
                ctx.say("restore_ticket", ticket=reference(result.ticket))
                note(ctx, "summary_ticket", ticket=reference(result.ticket))
                done = f"restore ticket {result.ticket}"
        elif ctx.account(refresh=True).status == "suspended":
            ctx.say("restore_still_due", amount=Money(ctx.account().past_due_cents))
        ctx.finish(done)


FLOWS = [RestoreFlow()]
