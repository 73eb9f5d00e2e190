"""A payment arrangement: the past-due balance split into 2 to 4 dated installments.

Policy comes from settings["arrangements"] (enabled, min/max installments, max_days). The first
installment is paid today; the others are scheduled payments the store posts on their dates
(`voice-agent payments run-scheduled`). The plan - dates and amounts - is read back before the
payment method is asked, and the whole arrangement again before an explicit yes creates it.
Refused politely when the account already has an active arrangement, nothing is past due, or
policy does not allow it.
"""
from __future__ import annotations

import datetime as dt

from voice_agent.dialogue.flow import Ctx, Flow, Input, Step
from voice_agent.dialogue.flows.consent import answer_consent, submit
from voice_agent.dialogue.flows.method import as_of
from voice_agent.dialogue.flows.payment import describe
from voice_agent.dialogue.flows.summary import note, reference
from voice_agent.dialogue.prompts import Money, Prompt, Spelled

# Installments are spread about a month apart, closer when the policy window is shorter.
MAX_SPACING_DAYS = 30


def plan_installments(total: int, count: int, today: dt.date,
                      max_days: int) -> list[tuple[dt.date, int]]:
    """Equal installments (the first takes the odd cents), the first today, evenly spaced."""
    spacing = min(MAX_SPACING_DAYS, max_days // max(1, count - 1))
    base, extra = divmod(total, count)
    return [(today + dt.timedelta(days=i * spacing), base + (extra if i == 0 else 0))
            for i in range(count)]


def allowed_counts(total: int, policy, limits) -> list[int]:
    """Installment counts the policy allows for this total, each installment within limits."""
    low, high = int(policy["min_installments"]), int(policy["max_installments"])
    return [n for n in range(low, high + 1)
            if total // n >= int(limits["min_cents"])
            and total - (n - 1) * (total // n) <= int(limits["max_cents"])]


def plan_prompt(plan: list[tuple[dt.date, int]], today: dt.date) -> list[Prompt]:
    """The installments as a spoken list (the last one closes the sentence)."""
    items = []
    for i, (when, cents) in enumerate(plan):
        key = ("arrangement_item_today" if when <= today else
               "arrangement_item_last" if i == len(plan) - 1 else "arrangement_item")
        items.append(Prompt(key, {"amount": Money(cents), "date": when}))
    return items


class ArrangementFlow(Flow):
    name = "arrangement"
    intents = ("payment_arrangement",)
    needs_account = True
    menu_key = "5"
    steps = {
        "count": Step(expecting="installments", prompt="arrangement_count",
                      help="arrangement_count_help", keypad="arrangement_count_keypad"),
        "confirm": Step(expecting="confirm", prompt="arrangement_confirm",
                        help="arrangement_confirm_help", keypad="yes_no_keypad",
                        strict=True, corrects=("count", "paymethod.method")),
    }

    def begin(self, ctx: Ctx) -> None:
        # "Split it into three payments" leaves a number the menu took for an amount: not ours.
        ctx.session.slots.pop("amount", None)
        policy = ctx.settings["arrangements"]
        account = ctx.account(refresh=True)
        if not policy["enabled"]:
            ctx.say("arrangement_not_offered")
            ctx.finish()
            return
        active = ctx.store.active_arrangement(account.number)
        if active is not None:
            left = [p for p in active.installments if p.status == "scheduled"]
            ctx.say("arrangement_active", reference=reference(active.reference))
            if left:
                ctx.say("arrangement_active_next",
                        amount=Money(left[0].amount_cents + left[0].fee_cents),
                        date=left[0].scheduled_for)
            ctx.finish()
            return
        total = account.past_due_cents
        if total <= 0:
            ctx.say("arrangement_nothing_past_due")
            ctx.finish()
            return
        counts = allowed_counts(total, policy, ctx.settings["payment_limits"])
        if not counts:
            ctx.say("arrangement_too_small", amount=Money(total))
            ctx.finish()
            return
        ctx.session.slots["arrangement_total"] = total
        ctx.ask("arrangement.count", amount=Money(total), min=counts[0], max=counts[-1],
                days=int(policy["max_days"]))

    def on_count(self, ctx: Ctx, inp: Input) -> None:
        count = inp.value
        if inp.dtmf is not None:
            count = int(inp.dtmf) if inp.dtmf.isdigit() else None
        if not isinstance(count, int):
            ctx.miss("no_match")
            return
        total = int(ctx.session.slots["arrangement_total"])
        policy = ctx.settings["arrangements"]
        if count not in allowed_counts(total, policy, ctx.settings["payment_limits"]):
            ctx.miss("arrangement_count_invalid")
            return
        plan = plan_installments(total, count, ctx.today, int(policy["max_days"]))
        ctx.session.slots["arrangement_plan"] = plan
        ctx.say("arrangement_plan", count=count, plan=plan_prompt(plan, ctx.today))
        ctx.agent.registry.flows["paymethod"].collect(ctx, self.name)

    def method_ready(self, ctx: Ctx) -> None:
        session = ctx.session
        plan = session.slots["arrangement_plan"]
        method = session.slots["method"]
        fee = ctx.settings.fee_cents(method.kind)
        fee_text = (Prompt("arrangement_fee_each", {"fee": Money(fee)}) if fee
                    else Prompt("arrangement_no_fee", {}))
        ctx.ask("arrangement.confirm", count=len(plan), total=Money(sum(c for _, c in plan)),
                plan=plan_prompt(plan, ctx.today), method=describe(method), fee=fee_text)

    def on_confirm(self, ctx: Ctx, inp: Input) -> None:
        answer_consent(ctx, inp, self._create, declined="arrangement_not_created")

    def _create(self, ctx: Ctx) -> None:
        session = ctx.session
        was_suspended = ctx.account(refresh=True).status == "suspended"
        plan = session.slots.pop("arrangement_plan")
        # An arrangement's payments carry their own keys (from its reference): no new attempt.
        arrangement = submit(ctx, lambda: ctx.store.create_arrangement(
            session.account, plan, session.slots["method"], call_id=session.call_id,
            now=as_of(ctx)), failed="arrangement_failed", new_attempt=False)
        if arrangement is None:
            return
        ctx.say("arrangement_done", reference=reference(arrangement.reference))
        first = next((p for p in arrangement.installments if p.status == "approved"), None)
        if first is not None:
            session.payments.append(first.confirmation)
            ctx.say("arrangement_first_paid", amount=Money(first.amount_cents + first.fee_cents),
                    code=Spelled(first.confirmation))
        if any(p.status == "scheduled" for p in arrangement.installments):
            ctx.say("arrangement_rest_scheduled")
        if was_suspended and ctx.account(refresh=True).status == "active":
            ctx.say("restore_now_active", hours=int(ctx.settings["restore_within_hours"]))
        note(ctx, "summary_arrangement", reference=reference(arrangement.reference),
             count=len(arrangement.installments))
        ctx.finish(f"arrangement {arrangement.reference}")


FLOWS = [ArrangementFlow()]
