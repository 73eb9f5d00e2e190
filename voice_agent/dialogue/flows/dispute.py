"""Disputing a charge on the bill: which charge, why, a read-back, and a ticket number.

The caller's own words for the reason are stored and read back only with no run of 4+ digits
in them (``redact.mask_caller_turn``, the rule caller turns are stored by): "someone used my pin
four three two one" is stored masked and not read back.

The charge is picked by name ("the late fee": fuzzy against the bill's descriptions and their
translations), by position ("the second one") or by keypad digit. A charge already under an open
dispute is recognised and its ticket read back instead of opening a second one. While a dispute
is open the store holds its amount out of the past-due balance, so it cannot cause a suspension.
"""
from __future__ import annotations

from voice_agent.dialogue.flow import Ctx, Flow, Input, Step
from voice_agent.dialogue.flows.picking import pick_by_name, pick_index
from voice_agent.dialogue.flows.summary import note, reference
from voice_agent.dialogue.prompts import Money, Prompt
from voice_agent.redact import mask_caller_turn

REASON_KEYS = {"1": "not_mine", "2": "wrong_amount", "3": "already_paid", "4": "service_problem"}
MAX_REASON_CHARS = 200
LONG_NUMBER_DIGITS = 6


class DisputeFlow(Flow):
    name = "dispute"
    intents = ("dispute_charge",)
    needs_account = True
    menu_key = "6"
    steps = {
        "charge": Step(expecting="charge", prompt="dispute_which", help="dispute_which_help",
                       keypad="dispute_which_keypad"),
        "reason": Step(expecting="dispute_reason", prompt="dispute_reason",
                       help="dispute_reason_help", keypad="dispute_reason_keypad"),
        "confirm": Step(expecting="confirm", prompt="dispute_confirm", help="dispute_confirm_help",
                        keypad="yes_no_keypad"),
    }

    def begin(self, ctx: Ctx) -> None:
        charges = ctx.store.charges(ctx.session.account)
        if not charges:
            ctx.say("dispute_no_charges")
            ctx.finish()
            return
        ctx.session.slots["dispute_choices"] = list(range(len(charges)))
        # Straight from the bill explanation the caller has just heard the list: not again.
        just_heard = any(r.key.startswith("explain_charge") for r in ctx.session.last_replies)
        for number, charge in enumerate([] if just_heard else charges, start=1):
            ctx.say("dispute_item_disputed" if charge.disputed else "dispute_item", number=number,
                    description=charge.description, amount=Money(charge.amount_cents),
                    date=charge.date)
        ctx.ask("dispute.charge", count=len(charges))

    def on_charge(self, ctx: Ctx, inp: Input) -> None:
        charges = ctx.store.charges(ctx.session.account)
        offered = [i for i in ctx.session.slots.get("dispute_choices", []) if i < len(charges)]
        index = pick_index(ctx, inp, len(charges))
        if index is None:
            named = pick_by_name(ctx, inp, [charges[i].description for i in offered],
                                 "charge_names")
            matches = [offered[i] for i in named]
            if len(matches) > 1:   # the same description more than once: which of them?
                ctx.session.slots["dispute_choices"] = matches
                ctx.say("dispute_several", description=charges[matches[0]].description)
                for i in matches:
                    ctx.say("dispute_item", number=i + 1, description=charges[i].description,
                            amount=Money(charges[i].amount_cents), date=charges[i].date)
                ctx.ask("dispute.charge", count=len(charges))
                return
            index = matches[0] if matches else None
        if index is None:
            ctx.miss("dispute_which_unclear")
            return
        charge = charges[index]
        ctx.session.slots["dispute_charge"] = charge.id
        if charge.disputed:   # already open: the store gives back the same ticket, nothing new
            result = ctx.store.open_dispute(ctx.session.account, charge.id, "",
                                            call_id=ctx.session.call_id)
            ctx.say("dispute_already", description=charge.description,
                    ticket=reference(result.ticket))
            ctx.finish()
            return
        ctx.ask("dispute.reason", description=charge.description)

    def on_reason(self, ctx: Ctx, inp: Input) -> None:
        if inp.intent in ("affirm", "deny"):   # "yes" / "no" is not a reason
            ctx.miss("no_match")
            return
        key = REASON_KEYS.get(inp.dtmf or "") if inp.dtmf else ctx.choice(inp, "dispute_reason")
        if key:
            ctx.session.slots["dispute_reason"] = key
            said = Prompt(f"dispute_reason_{key}", {})
        elif inp.text and (len(inp.text.split()) >= 2 or ctx.language.joined_words):  # own words
            text = " ".join(inp.text.split())[:MAX_REASON_CHARS]
            kept = mask_caller_turn(text, ctx.lang, ctx.settings.languages)
            if _has_long_number(ctx, text):   # maybe a card or account number: keep it nowhere
                ctx.session.slots["dispute_reason"] = "other: (the caller's words held back)"
                said = Prompt("dispute_reason_own_words", {})
            elif kept != text:                # a PIN or other digits in it: stored masked,
                ctx.session.slots["dispute_reason"] = f"other: {kept}"     # never read back
                said = Prompt("dispute_reason_own_words", {})
            else:
                ctx.session.slots["dispute_reason"] = f"other: {text}"
                said = Prompt("dispute_reason_quoted", {"text": text})
        else:
            ctx.miss("no_match")
            return
        charge = self._charge(ctx)
        ctx.ask("dispute.confirm", description=charge.description,
                amount=Money(charge.amount_cents), reason=said)

    def on_confirm(self, ctx: Ctx, inp: Input) -> None:
        if inp.no:
            ctx.say("dispute_not_opened")
            ctx.finish()
            return
        if not inp.yes:
            ctx.miss("no_match")
            return
        session = ctx.session
        charge = self._charge(ctx)
        result = ctx.store.open_dispute(session.account, charge.id,
                                        session.slots.pop("dispute_reason", ""),
                                        call_id=session.call_id)
        if result.already_open:
            ctx.say("dispute_already", description=charge.description,
                    ticket=reference(result.ticket))
            ctx.finish()
            return
        ctx.say("dispute_opened", ticket=reference(result.ticket))
        ctx.say("dispute_held", amount=Money(charge.amount_cents))
        note(ctx, "summary_dispute", description=charge.description,
             ticket=reference(result.ticket))
        ctx.finish(f"dispute {result.ticket}")

    def _charge(self, ctx: Ctx):
        wanted = ctx.session.slots.get("dispute_charge")
        return next(c for c in ctx.store.charges(ctx.session.account) if c.id == wanted)


def _has_long_number(ctx: Ctx, text: str) -> bool:
    """Six or more digits, keyed or spoken: never stored with the dispute or read back."""
    digits = ctx.nlu.parse_value("digits", text, ctx.lang, today=ctx.today)
    return bool(digits) and len(str(digits)) >= LONG_NUMBER_DIGITS


FLOWS = [DisputeFlow()]
