"""Answers that need no account: other ways to pay and their fees, and security advice.

The ways to pay come from settings["payment_options"] (key, fee in cents; their words per
language in locales/<lang>/language.toml) and the fees for paying on this line from
settings["fees"], so a utility changes them without code. The security advice names the official
number (settings["official_phone"]), what the company never asks for, by text, email or call, and
how to report a suspicious one.
"""
from __future__ import annotations

from voice_agent.dialogue.flow import Ctx, Flow
from voice_agent.dialogue.flows.payment import fee_text
from voice_agent.dialogue.prompts import Money, Prompt


def option_prompts(ctx: Ctx, only_with_fees: bool = False) -> list[Prompt]:
    """Each configured way to pay, in the caller's language, with its fee."""
    items = []
    for option in ctx.settings["payment_options"]:
        text = ctx.settings.payment_option_text(option, ctx.lang)
        fee = int(option.get("fee_cents", 0))
        if only_with_fees and not fee:
            continue
        key = "options_item_fee" if fee else "options_item_free"
        items.append(Prompt(key, {"way": text, "fee": Money(fee)}))
    return items


def line_fees(ctx: Ctx) -> dict[str, Prompt]:
    return {f"{kind}_fee": fee_text(ctx.settings.fee_cents(kind)) for kind in ("card", "bank")}


class PaymentOptionsFlow(Flow):
    name = "payment_options"
    intents = ("payment_options",)
    menu_key = "8"

    def begin(self, ctx: Ctx) -> None:
        ctx.say("options_intro", options=option_prompts(ctx))
        ctx.say("options_this_line", **line_fees(ctx))
        ctx.finish("payment options")


class FeesFlow(Flow):
    name = "fees"
    intents = ("fees",)

    def begin(self, ctx: Ctx) -> None:
        ctx.say("fees_this_line", **line_fees(ctx))
        with_fees = option_prompts(ctx, only_with_fees=True)
        if with_fees:
            ctx.say("fees_other", options=with_fees)
        else:
            ctx.say("fees_other_free")
        ctx.say("fees_late")
        ctx.finish("fees")


class SecurityFlow(Flow):
    """Answered at any step and before any verification ("someone texted me for my card number,
    was that you?" at the PIN prompt): the advice, then the question the call was at."""

    name = "security"
    intents = ("security_tips",)
    interrupts = True
    # Where the caller's own account of what happened is the answer ("someone used my PIN" as
    # a dispute reason), a fraud story is that answer, not a question.
    not_interrupting = frozenset({"charge", "dispute_reason"})

    def begin(self, ctx: Ctx) -> None:
        for key in ("security_official", "security_never", "security_pressure",
                    "security_after", "security_report"):
            ctx.say(key)
        resume = ctx.session.resume
        if resume and not resume[0].startswith("menu."):
            ctx.session.completed.append("security advice")
            ctx.resume()
        else:   # asked at the menu: the advice was the request
            ctx.session.resume = None
            ctx.finish("security advice")


FLOWS = [PaymentOptionsFlow(), FeesFlow(), SecurityFlow()]
