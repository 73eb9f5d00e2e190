"""Issue 5 flows, the cases conversations do not cover: policy limits, schedule windows, charges
sharing a description, restoration with everything disputed, transfer and escalation, the plan
arithmetic, keypad entry from the main menu."""
from __future__ import annotations

import datetime as dt

import pytest

from voice_agent.dialogue import CallerEvent
from voice_agent.dialogue.engine import reply_keys
from voice_agent.dialogue.flows.arrangement import allowed_counts, plan_installments

from conversation import Call

LIMITS = {"min_cents": 100, "max_cents": 100000}
POLICY = {"min_installments": 2, "max_installments": 4, "max_days": 60}


# -- the plan arithmetic -----------------------------------------------------------------------
def test_plan_splits_evenly_first_takes_odd_cents_within_window():
    today = dt.date(2026, 1, 31)
    plan = plan_installments(7250, 3, today, 60)
    assert [c for _, c in plan] == [2418, 2416, 2416] and sum(c for _, c in plan) == 7250
    assert [d for d, _ in plan] == [today, today + dt.timedelta(30), today + dt.timedelta(60)]
    four = plan_installments(10001, 4, today, 60)
    assert [d for d, _ in four][-1] <= today + dt.timedelta(60)
    assert sum(c for _, c in four) == 10001
    short = plan_installments(1000, 2, today, 10)
    assert short[1][0] == today + dt.timedelta(10)


def test_allowed_counts_respect_limits():
    assert allowed_counts(7250, POLICY, LIMITS) == [2, 3, 4]
    assert allowed_counts(300, POLICY, LIMITS) == [2, 3]          # $1.00 minimum each
    assert allowed_counts(150, POLICY, LIMITS) == []
    assert allowed_counts(350000, POLICY, LIMITS) == [4]           # $1,000 maximum each


# -- arrangements ------------------------------------------------------------------------------
def test_arrangement_refused_when_policy_says_no(demo_agent):
    agent, store = demo_agent(arrangements={"enabled": False})
    call = Call(agent, "es")
    turn = call.verified("plan de pagos", "200300400", "2468")
    assert "arrangement_not_offered" in reply_keys(turn) and turn.state == "menu.more"
    assert store.active_arrangement("200300400") is None


def test_arrangement_policy_limits_the_count(demo_agent):
    agent, _ = demo_agent(arrangements={"max_installments": 3, "max_days": 30})
    call = Call(agent, "es")
    turn = call.verified("plan de pagos", "200300400", "2468")
    assert turn.state == "arrangement.count" and "2 a 3 pagos" in turn.say and "30 días" in turn.say
    turn = call.say(dtmf="4")
    assert turn.state == "arrangement.count" and "arrangement_count_invalid" in reply_keys(turn)
    turn = call.say("tres")
    assert turn.state == "paymethod.method"


# -- scheduled payments --------------------------------------------------------------------------
def test_schedule_window_from_settings_and_keyed_date(demo_agent):
    agent, store = demo_agent(schedule={"max_days_ahead": 3})
    call = Call(agent)
    call.verified("schedule a payment", "100200300", "4321")
    turn = call.say("yes")
    today = dt.date.today()
    assert turn.state == "schedule.date"
    far = today + dt.timedelta(days=5)
    turn = call.say(dtmf=f"{far.month:02d}{far.day:02d}#")
    assert "schedule_date_outside" in reply_keys(turn) and turn.state == "schedule.date"
    near = today + dt.timedelta(days=3)
    turn = call.say(dtmf=f"{near.month:02d}{near.day:02d}#")
    assert turn.state == "schedule.amount"
    turn = call.say(dtmf="1#")                                      # 1 = the full balance
    assert turn.state == "paymethod.method"
    call.say(dtmf="3")                                              # the saved card
    turn = call.say(dtmf="1")
    assert "schedule_done" in reply_keys(turn)
    [payment] = store.scheduled_payments("100200300")
    assert payment.scheduled_for == near and payment.amount_cents == 8420


def test_schedule_no_room_after_the_due_date(demo_agent):
    agent, store = demo_agent()
    call = Call(agent, "ko")
    call.verified("납부 예약", "300400500", "8642")
    turn = call.say("네")
    assert "schedule_no_room" in reply_keys(turn) and turn.state == "menu.more"
    assert store.scheduled_payments("300400500") == []


def test_menu_keys_reach_the_new_flows(demo_agent):
    agent, _ = demo_agent()
    for key, state in (("4", "schedule.new_offer"), ("5", "menu.more"), ("6", "dispute.charge"),
                       ("7", "menu.more")):
        call = Call(agent)
        call.say(dtmf=key)
        call.say(dtmf="100200300#")
        assert call.say(dtmf="4321#").state == state, key
    call = Call(agent)
    assert "options_intro" in reply_keys(call.say(dtmf="8"))


# -- disputes ------------------------------------------------------------------------------------
def test_charges_sharing_a_description_are_told_apart(demo_agent):
    agent, store = demo_agent()
    call = Call(agent, "es")
    call.verified("quiero disputar un cargo", "200300400", "2468")
    turn = call.say("el servicio eléctrico")
    assert "dispute_several" in reply_keys(turn) and turn.state == "dispute.charge"
    turn = call.say("el segundo")
    assert turn.state == "dispute.reason"
    call.say(dtmf="1")
    turn = call.say("sí")
    assert "dispute_opened" in reply_keys(turn)
    [charge] = [c for c in store.charges("200300400") if c.disputed]
    assert charge.id == "c2" and charge.amount_cents == 6925


def test_yes_is_not_a_dispute_reason(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent)
    call.verified("dispute a charge", "100200300", "4321")
    call.say("internet")
    turn = call.say("no")
    assert turn.state == "dispute.reason" and "no_match" in reply_keys(turn)


# -- restoration ---------------------------------------------------------------------------------
def test_everything_disputed_restores_with_a_ticket_and_no_payment(demo_agent):
    agent, store = demo_agent()
    for charge in ("c1", "c2", "c3"):
        store.open_dispute("300400500", charge, "not_mine")
    assert store.account("300400500").past_due_cents == 0
    call = Call(agent, "ko")
    turn = call.verified("서비스 다시 연결해 주세요", "300400500", "8642")
    assert "restore_ticket_only" in reply_keys(turn)
    assert [t["kind"] for t in store.tickets("300400500")] == ["restoration"]
    assert store.payments(account="300400500") == []
    turn = call.say("아니요")
    assert "summary_ticket" in reply_keys(turn)


def test_restore_declined_points_to_an_arrangement(demo_agent):
    agent, store = demo_agent()
    call = Call(agent, "ko")
    call.verified("서비스 다시 연결해 주세요", "300400500", "8642")
    turn = call.say("아니요")
    assert "restore_other_ways" in reply_keys(turn)
    assert store.account("300400500").status == "suspended"


# -- agent: transfer, callback, escalation ---------------------------------------------------------
def test_transfer_target_puts_the_uri_on_the_turn(demo_agent):
    agent, store = demo_agent(transfer_target="sip:agents@10.0.0.5")
    call = Call(agent)
    turn = call.say("representative")
    assert turn.ended and turn.outcome == "transferred" and turn.transfer == "sip:agents@10.0.0.5"
    assert store.db.execute("SELECT COUNT(*) FROM callbacks").fetchone()[0] == 0


def test_no_usable_caller_id_asks_for_the_number(demo_agent):
    agent, store = demo_agent()
    call = Call(agent, caller_id="anonymous")
    call.say("agent")
    turn = call.say("yes")
    assert turn.state == "callback.phone"
    turn = call.say(dtmf="555#")
    assert "callback_phone_invalid" in reply_keys(turn)
    call.say(dtmf="8035550199#")
    turn = call.say("in the morning")
    assert "callback_booked" in reply_keys(turn)
    row = store.db.execute("SELECT phone, window, reason FROM callbacks").fetchone()
    assert row == ("8035550199", "morning", "menu")


def test_escalation_after_misses_ends_without_summary(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent)
    for _ in range(3):
        turn = call.agent.step(call.session, CallerEvent())
    assert turn.ended and turn.outcome == "no_input"
    assert "escalate_offline" in reply_keys(turn) and "summary_intro" not in reply_keys(turn)


def test_summary_lists_what_was_done_before_goodbye(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent, caller_id="+18035550100")
    call.say("representative")
    call.say("yes")
    call.say("yes")
    call.say(dtmf="1")
    turn = call.say("goodbye")
    keys = reply_keys(turn)
    assert keys == ["summary_intro", "summary_callback", "goodbye"]


# -- help, repeat and silence at every step of the new flows ------------------------------------
SCRIPTS = [
    ("dispute a charge", "100200300", "4321", ["internet", "the amount is wrong", "yes"]),
    ("payment plan", "200300400", "2468", ["no", "two", "card", "4111111111111111", "12 30",
                                           "yes"]),
    ("schedule a payment", "100200300", "4321", ["yes", "tomorrow", "fifty dollars", "saved",
                                                 "yes", "my scheduled payments", "yes", "no"]),
    ("restore my service", "300400500", "8642", ["no", "yes", "bank account", "011000015",
                                                 "12345678", "yes"]),
    ("representative", None, None, ["yes", "yes", "evening"]),
]


@pytest.mark.parametrize("request_, number, pin, answers", SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_help_repeat_and_silence_work_at_every_step(demo_agent, request_, number, pin, answers):
    agent, _ = demo_agent()
    call = Call(agent, caller_id="+18035550100")
    if number:
        call.verified(request_, number, pin)
    else:
        call.say(request_)
    for answer in answers:
        state = call.turn.state
        for probe in ("help", "repeat", None):
            turn = call.say(probe) if probe else call.agent.step(call.session, CallerEvent())
            assert not turn.ended and turn.state == state, f"{probe!r} at {state}: {turn.say}"
            assert "system_error" not in reply_keys(turn)
        call.session.misses = 0
        turn = call.say(dtmf=answer) if answer.isdigit() else call.say(answer)
        assert not turn.ended, f"{answer!r} at {state}: {turn.say}"


def test_a_reason_with_a_long_number_is_neither_stored_nor_read_back(demo_agent):
    agent, store = demo_agent()
    call = Call(agent)
    call.verified("dispute a charge", "100200300", "4321")
    call.say("internet")
    turn = call.say("someone used card four one one one one one one one one one one one one "
                    "one one one")
    assert "because of what you told me" in turn.say and "1 1 1" not in turn.say
    call.say("yes")
    reasons = [r[0] for r in store.db.execute("SELECT reason FROM disputes")]
    assert reasons == ["other: (the caller's words held back)"]
    turn = call.say("help")
    call.say("no")
    call.agent.hangup(call.session)
    record = store.call(call.session.call_id)
    assert "dispute D-" in (record["summary"] or "")


def test_a_dated_call_dates_the_arrangement_and_run_scheduled_follows(demo_agent):
    agent, store = demo_agent()
    day = dt.date.today() + dt.timedelta(days=20)       # as `chat --today` would set it
    call = Call(agent, "es", today=day)
    call.verified("plan de pagos", "200300400", "2468")
    for answer in ("dos", "cuenta bancaria"):
        call.say(answer)
    call.say(dtmf="011000015#")
    call.say(dtmf="12345678#")
    turn = call.say("sí")
    assert "arrangement_first_paid" in reply_keys(turn)
    arrangement = store.active_arrangement("200300400")
    first, second = arrangement.installments
    assert first.status == "approved" and first.created_at.startswith(day.isoformat())
    assert second.status == "scheduled" and second.scheduled_for == day + dt.timedelta(days=30)
    assert store.run_scheduled(day + dt.timedelta(days=29)) == []
    assert [p.confirmation for p in store.run_scheduled(second.scheduled_for)] == \
        [second.confirmation]
    assert store.active_arrangement("200300400") is None


def test_a_window_without_prompts_is_not_offered(demo_agent):
    agent, store = demo_agent(callback_windows=["weekend", "evening"])
    call = Call(agent, caller_id="+18035550100")
    call.say("representative")
    call.say("yes")
    turn = call.say("yes")
    assert "Say evening, or press 1" in turn.say and "weekend" not in turn.say
    turn = call.say(dtmf="1")
    assert "callback_booked" in reply_keys(turn)
    assert store.db.execute("SELECT window FROM callbacks").fetchone()[0] == "evening"
