"""What every flow that moves money shares: the answer to its read-back, and the submission.

Payments, restoration payments, scheduled payments and payment arrangements each read back what
they will do and then wait for consent. Only an explicit yes (the word, or key 1) acts; a no
drops the payment details and says so; anything else is asked again - money never moves on a
guess. A submission that the store refuses is said plainly and ends the flow, and the card or
bank details are forgotten whatever happened.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from voice_agent.dialogue.flow import Ctx, Input

T = TypeVar("T")


def answer_consent(ctx: Ctx, inp: Input, act: Callable[[Ctx], None], declined: str) -> None:
    """Act on an explicit yes to a money read-back; `declined` is said on a no."""
    if inp.value == "yes" or inp.dtmf == "1":
        act(ctx)
    elif inp.no:
        ctx.session.forget_secrets()
        ctx.say(declined)
        ctx.finish()
    else:
        ctx.miss("pay_confirm_unclear")


def submit(ctx: Ctx, post: Callable[[], T], failed: str, *, new_attempt: bool = True) -> T | None:
    """Run one store submission. On a StoreError say `failed`, end the flow and return None.
    With `new_attempt` the call's submission counter moves on, so a later attempt gets a new
    idempotency key while a re-delivered yes for this one reuses its key."""
    from voice_agent.store import StoreError
    session = ctx.session
    try:
        return post()
    except StoreError:
        ctx.say(failed)
        ctx.finish()
        return None
    finally:
        if new_attempt:
            session.submit_seq += 1
        session.forget_secrets()
