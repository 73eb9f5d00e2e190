"""The engine's own rules, with a literal-minded stand-in NLU and the real store on demo data."""

from voice_agent.dialogue import Agent, CallerEvent
from voice_agent.dialogue.engine import reply_keys
from voice_agent.dialogue.flow import Flow
from voice_agent.dialogue.flows import Registry, default_registry

from conversation import Call
from nlu_helpers import FakeNLU

CARD = "4111111111111111"
# The issue-4 flows only: later flows (issue 5) replace some answers, e.g. "agent" -> callback.
BASE_FLOWS = tuple(f"voice_agent.dialogue.flows.{name}" for name in
                   ("language", "menu", "verify", "handoff", "balance", "explain", "payment"))


def make_agent(settings, store, **overrides):
    if overrides:
        settings = settings.with_overrides(**overrides)
    return Agent(settings, store, FakeNLU(), registry=default_registry(BASE_FLOWS))


def test_greeting_offers_every_language_by_speech_and_keypad(settings, store):
    agent = make_agent(settings, store)
    session, turn = agent.start()
    assert "Palmetto Power & Telecom" in turn.say
    assert "press 1" in turn.say and "oprima 2" in turn.say and "3번" in turn.say
    assert turn.expecting == "language"
    turn = agent.step(session, CallerEvent(dtmf="2"))
    assert turn.lang == "es" and turn.expecting == "intent"
    assert "¿En qué puedo ayudarle" in turn.say


def test_card_payment_needs_explicit_yes_and_posts_once(settings, store):
    call = Call(make_agent(settings, store))
    assert call.say("pay").expecting == "account_number"
    assert call.verify().expecting == "amount"
    call.keys("1")                                  # full balance
    assert call.say("card").expecting == "card_number"
    assert call.say(CARD).expecting == "card_expiry"
    turn = call.say("12/29")
    assert turn.expecting == "confirm"
    assert "$84.20" in turn.say and "$2.50" in turn.say and "$86.70" in turn.say
    assert "1 1 1 1" in turn.say and CARD not in turn.say
    assert call.say("maybe").expecting == "confirm"                 # not a yes: nothing posted
    assert call.say("yes", confidence=0.7).expecting == "confirm"   # unsure yes: nothing posted
    assert store.payments(account="100200300") == []
    turn = call.say("yes")
    paid = store.payments(account="100200300")
    assert len(paid) == 1 and paid[0].amount_cents == 8420 and paid[0].fee_cents == 250
    code = paid[0].confirmation
    assert ", ".join(code) in turn.say and turn.expecting == "confirm"
    assert ", ".join(code) in call.say("yes").say                   # repeated on request
    call.say("no")
    turn = call.say("goodbye")
    assert turn.ended and turn.outcome == "paid"
    record = store.call(call.session.call_id)
    texts = " ".join(t["text"] for t in record["turns"])
    assert CARD not in texts and "4321" not in texts and "12/29" not in texts
    assert record["outcome"] == "paid"


def test_no_at_read_back_posts_nothing(settings, store):
    call = Call(make_agent(settings, store))
    call.say("pay")
    call.verify()
    call.keys("3")
    call.keys("5000#")                              # $50.00 keyed as dollars and cents
    call.keys("3")                                  # saved card on file
    turn = call.say("no")
    assert "pay_not_submitted" in reply_keys(turn)
    assert store.payments(account="100200300") == []


def test_mixed_initiative_amount_survives_verification(settings, store):
    call = Call(make_agent(settings, store))
    call.say("pay $50.00")
    turn = call.verify()
    assert turn.expecting == "confirm" and "$50.00" in turn.say    # heard in passing: confirmed
    assert call.say("yes").expecting == "payment_method"
    call.keys("3")
    assert "$50.00" in call.turns[-1].say


def test_unknown_account_asks_for_pin_and_fails_like_a_wrong_pin(settings, store):
    call = Call(make_agent(settings, store))
    call.say("balance")
    assert call.keys("999888777#").expecting == "pin"
    unknown = call.keys("1111#")
    call2 = Call(make_agent(settings, store))
    call2.say("balance")
    call2.keys("100200300#")
    wrong = call2.keys("1111#")
    assert unknown.say == wrong.say and unknown.expecting == wrong.expecting == "account_number"


def test_three_failures_end_the_call_and_store_lockout_applies(settings, store):
    call = Call(make_agent(settings, store))
    call.say("balance")
    for _ in range(3):
        turn = call.verify(pin="1111")
    assert turn.ended and turn.outcome == "verification_failed"
    call = Call(make_agent(settings, store))
    call.say("balance")
    call.verify(pin="1111")
    call.verify(pin="1111")                         # fifth failure: the store locks the account
    turn = call.verify()                            # the right PIN no longer works
    assert turn.ended and turn.outcome == "locked_out"
    assert "Jane" not in turn.say


def test_account_without_pin_uses_zip_and_ssn(settings, store):
    call = Call(make_agent(settings, store))
    call.say("balance")
    assert call.keys("400500600#").expecting == "zip"
    assert call.keys("29715#").expecting == "ssn_last4"
    turn = call.keys("3690#")
    assert "$56.00" in turn.say and turn.expecting == "confirm"


def test_unsure_value_is_read_back_and_can_be_corrected(settings, store):
    call = Call(make_agent(settings, store))
    call.say("balance")
    turn = call.say("100200301", confidence=0.6)
    assert turn.expecting == "confirm" and "1 0 0, 2 0 0, 3 0 1" in turn.say
    turn = call.say("no")
    assert turn.expecting == "account_number"
    turn = call.say("100200300", confidence=0.6)
    assert call.say("yes").expecting == "pin"
    assert call.say("4321", confidence=0.6).expecting == "pin"  # a secret is never read back
    assert call.say("4321", confidence=0.3).expecting == "pin"  # too unsure: asked again


def test_no_input_escalates_and_ends(settings, store):
    call = Call(make_agent(settings, store), lang=None)
    first, second, third = call.silence(), call.silence(), call.silence()
    assert not first.ended and "language_help" in reply_keys(first)
    assert "language_keypad" in reply_keys(second)
    assert third.ended and third.outcome == "no_input" and "escalate_offline" in reply_keys(third)
    assert call.agent.step(call.session, CallerEvent()).ended


def test_global_commands(settings, store):
    call = Call(make_agent(settings, store), lang=None)
    call.keys("1")
    menu = call.turns[-1]
    assert call.say("repeat").say.endswith(menu.say.split(". ", 1)[1])
    turn = call.say("slower")
    assert turn.slow and call.say("help").slow               # slow for the rest of the call
    call.say("pay")
    call.verify()
    turn = call.keys("*")                                    # "*" clears and asks again
    assert turn.state == "payment.amount" and "conv_b_cleared" in reply_keys(turn)
    turn = call.say("cancel")                                # no money details yet: no question
    assert turn.state == "menu.intent" and "cancelled" in reply_keys(turn)
    turn = call.say("change language to spanish")
    assert turn.lang == "es" and turn.expecting == "intent"
    turn = call.say("agent")
    assert "agent_unavailable" in reply_keys(turn) and turn.expecting == "confirm"
    assert call.say("yes").state == "menu.intent"


def test_agent_transfers_when_a_target_is_set(settings, store):
    call = Call(make_agent(settings, store, transfer_target="sip:desk@127.0.0.1"))
    turn = call.say("representative")
    assert turn.ended and turn.transfer == "sip:desk@127.0.0.1" and turn.outcome == "transferred"


def test_language_offer_after_verification(settings, store):
    call = Call(make_agent(settings, store))
    call.say("balance")
    turn = call.verify("200300400", "2468")
    assert turn.expecting == "confirm" and "Spanish" in turn.say
    turn = call.say("yes")
    assert turn.lang == "es" and "$156.75" in turn.say.replace("US", "")


def test_suspended_account_restored_by_paying_past_due(settings, store):
    call = Call(make_agent(settings, store), lang="ko")
    call.say("pay")
    call.verify("300400500", "8642")
    call.keys("2")                                          # the past-due amount
    call.keys("2")                                          # bank account
    assert call.keys("011000016#").expecting == "routing_number"   # bad checksum
    call.keys("011000015#")
    call.keys("12345678#")
    turn = call.keys("1")
    assert "pay_restored" in reply_keys(turn)
    account = store.account("300400500")
    assert account.status == "active" and account.past_due_cents == 0


def test_intent_without_a_flow_gets_an_honest_answer(settings, store):
    call = Call(make_agent(settings, store))
    turn = call.say("arrangement")
    assert "not_available" in reply_keys(turn) and turn.expecting == "intent"


def test_a_new_flow_plugs_in_by_intent_and_menu_key(settings, store):
    class Tips(Flow):
        name = "tips"
        intents = ("security_tips",)
        menu_key = "7"

        def begin(self, ctx):
            ctx.say("repeating")
            ctx.finish("tips")

    registry = default_registry(BASE_FLOWS)
    registry.add(Tips())
    agent = Agent(settings, store, FakeNLU(), registry=registry)
    session, _ = agent.start(lang="en")
    turn = agent.step(session, CallerEvent(dtmf="7"))
    assert reply_keys(turn) == ["repeating", "menu_more"]
    assert isinstance(registry, Registry)


def test_hangup_closes_the_record(settings, store):
    agent = make_agent(settings, store)
    session, _ = agent.start(lang="en")
    agent.hangup(session)
    assert store.call(session.call_id)["outcome"] == "abandoned"


def test_amount_outside_limits_moves_to_another_amount_with_the_limits(settings, store):
    call = Call(make_agent(settings, store))
    call.say("pay")
    call.verify()
    turn = call.say("$2000.00")
    assert turn.state == "payment.amount_other" and "amount_too_large" in reply_keys(turn)
    assert "$1,000.00" in turn.say
    turn = call.say("$0.50")
    assert "amount_too_small" in reply_keys(turn) and turn.expecting == "amount"
    assert call.say("$20.00").expecting == "payment_method"


def test_expired_card_and_unsupported_card_are_refused(settings, store):
    call = Call(make_agent(settings, store))
    call.say("pay")
    call.verify()
    call.keys("1")
    call.keys("1")
    assert "card_not_accepted" in reply_keys(call.say("9000000000000001"))
    call.say(CARD)
    turn = call.say("01/20")
    assert "card_expired" in reply_keys(turn) and turn.expecting == "card_expiry"


def test_retried_submission_never_posts_twice(settings, store):
    """The idempotency key is the call and attempt: a front end re-sending the same call's
    attempt gets the same payment back from the store."""
    call = Call(make_agent(settings, store))
    call.say("pay")
    call.verify()
    call.keys("1")
    call.keys("3")
    key = call.session.slots["idempotency_key"]
    assert key == f"call-{call.session.call_id}-payment-1"
    call.say("yes")
    from voice_agent.store import PaymentMethod
    again = store.post_payment("100200300", 8420, 250, PaymentMethod(kind="card", last4="1111"),
                               key)
    assert again.duplicate and len(store.payments(account="100200300")) == 1


def test_an_overlong_turn_is_refused_before_understanding_on_every_channel(demo_agent):
    """Thousands of digits broke number parsing (the call ended as `error`) and a megabyte line
    cost seconds: a turn over max_utterance_chars is not understood, the caller is told and asked
    again, and the record keeps its length only (issue 14, item 11)."""
    import time
    agent, store = demo_agent(max_utterance_chars=300)
    session, _ = agent.start(lang="en")
    assert agent.step(session, CallerEvent(text="pay my bill")).expecting == "account_number"
    for event in (CallerEvent(text="1" * 5000),                        # typed
                  CallerEvent(text="one " * 2000, confidence=0.95),    # recognised
                  CallerEvent(dtmf="1" * 400)):                        # keyed
        turn = agent.step(session, event)
        assert not turn.ended and turn.outcome is None, turn.say
        assert reply_keys(turn)[0] == "too_long" and "too long" in turn.say
        assert turn.expecting == "account_number"
        agent.step(session, CallerEvent(text="pay my bill"))          # a miss of another kind resets
        session.misses = 0
    started = time.process_time()
    agent.step(session, CallerEvent(text="7" * 1_000_000))
    assert time.process_time() - started < 1.0
    session.misses = 0
    assert agent.step(session, CallerEvent(dtmf="100200300#")).expecting == "pin"
    turns = store.call(session.call_id)["turns"]
    caller = [t["text"] for t in turns if t["speaker"] == "caller"]
    assert "[too long: 5000 characters]" in caller and "[too long: 400 characters]" in caller
    assert "[too long: 1000000 characters]" in caller
    assert not any("1111" in t or "7777" in t for t in caller)
    # Right at the cap is still understood.
    other, _ = agent.start(lang="en")
    assert agent.step(other, CallerEvent(text=("pay my bill " * 30)[:300])).expecting == \
        "account_number"
