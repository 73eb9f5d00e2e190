"""The main menu's keypad offer names every key the menu answers, built from the flows'
`menu_key` (1 balance ... 8 payment options, 0 a person) in every language, and each key it
names starts its flow; amounts and dates said with a request are kept for the flow."""
from __future__ import annotations

import datetime as dt

import pytest

from voice_agent.dialogue import CallerEvent
from voice_agent.dialogue.flows import default_registry
from voice_agent.dialogue.prompts import Prompts, load_catalog

LANGS = ("en", "es", "ko")
EXPECTED_KEYS = {"1": "balance", "2": "payment", "3": "explain", "4": "schedule",
                 "5": "arrangement", "6": "dispute", "7": "restore", "8": "payment_options",
                 "0": "callback"}


def test_the_registry_has_the_documented_menu_keys():
    keys = {key: flow.name for key, flow in default_registry().by_key.items()}
    assert keys == EXPECTED_KEYS


@pytest.mark.parametrize("lang", LANGS)
def test_every_keyed_flow_has_its_menu_prompt(lang):
    catalog = load_catalog(lang)
    for flow in default_registry().flows.values():
        if flow.menu_key:
            assert f"menu_key_{flow.name}" in catalog, f"{lang}: menu_key_{flow.name}"


@pytest.mark.parametrize("lang", LANGS)
def test_keypad_menu_announces_every_key(agent, lang):
    session, _ = agent.start(lang=lang)
    agent.step(session, CallerEvent())
    turn = agent.step(session, CallerEvent())            # second miss: the keypad offer
    offer = next(r for r in turn.replies if r.key == "menu_keypad")
    announced = [item.params["digit"] for item in offer.params["keys"]]
    assert announced == ["1", "2", "3", "4", "5", "6", "7", "8", "0"]
    prompts = Prompts(agent.settings)
    for item in offer.params["keys"]:
        assert prompts.render_one(lang, item) in turn.say
    assert "9" in turn.say.split("8")[-1]                    # goodbye comes last


def test_keypad_menu_in_english_reads_naturally(agent):
    session, _ = agent.start(lang="en")
    agent.step(session, CallerEvent())
    turn = agent.step(session, CallerEvent())
    assert ("press 1 for your balance, 2 to make a payment, 3 to hear your bill explained, "
            "4 for scheduled payments, 5 to set up a payment arrangement, 6 to dispute a charge, "
            "7 to restore your service, 8 for other ways to pay and their fees, "
            "0 for a representative, or 9 to end the call.") in turn.say


@pytest.mark.parametrize("key", ["4", "5", "6", "7"])
def test_each_announced_account_key_starts_its_flow_after_verification(agent, key):
    session, _ = agent.start(lang="en")
    turn = agent.step(session, CallerEvent(dtmf=key))
    assert turn.state == "verify.account_number"
    assert session.pending == EXPECTED_KEYS[key]


def test_key_8_gives_payment_options(agent):
    session, _ = agent.start(lang="en")
    turn = agent.step(session, CallerEvent(dtmf="8"))
    assert "options_intro" in [r.key for r in turn.replies]


# -- values said with the request ------------------------------------------------------------------
WEDNESDAY = dt.date(2026, 11, 25)
SCHEDULE_REQUESTS = {
    "en": ("schedule a payment of fifty dollars for friday", "100200300", "4321", [], "yes"),
    "es": ("programar un pago de cincuenta dólares para el viernes", "200300400", "2468", [],
           "sí"),
    # Jane's account is in English: the Korean caller keeps Korean when it is offered.
    "ko": ("금요일에 오십 달러 예약 납부", "100200300", "4321", ["아니요"], "네"),
}


@pytest.mark.parametrize("lang", sorted(SCHEDULE_REQUESTS))
def test_amount_and_date_said_with_the_request_are_both_kept(agent, lang):
    request, account, pin, after_verify, yes = SCHEDULE_REQUESTS[lang]
    session, _ = agent.start(lang=lang, today=WEDNESDAY)
    agent.step(session, CallerEvent(text=request))
    agent.step(session, CallerEvent(dtmf=f"{account}#"))
    turn = agent.step(session, CallerEvent(dtmf=f"{pin}#"))
    for text in after_verify:
        turn = agent.step(session, CallerEvent(text=text))
    # No date question: the amount heard in passing is read back, then the method is asked.
    assert turn.state == "schedule.amount" and turn.expecting == "confirm", turn.say
    assert session.slots["schedule_date"] == dt.date(2026, 11, 27)
    turn = agent.step(session, CallerEvent(text=yes))
    assert turn.expecting == "payment_method", turn.say
    for keys in ("1", "4111111111111111#", "1229#"):                # a card
        turn = agent.step(session, CallerEvent(dtmf=keys))
    assert turn.state == "schedule.confirm", turn.say
    said_date = Prompts(agent.settings).format_value(lang, dt.date(2026, 11, 27))
    assert said_date in turn.say


def test_a_date_outside_the_window_is_asked_for_with_the_reason(agent):
    session, _ = agent.start(lang="en", today=WEDNESDAY)
    agent.step(session, CallerEvent(text="schedule a payment for december twentieth"))
    agent.step(session, CallerEvent(dtmf="100200300#"))
    turn = agent.step(session, CallerEvent(dtmf="4321#"))
    keys = [r.key for r in turn.replies]
    assert keys[-2:] == ["schedule_date_outside", "schedule_date"] and turn.expecting == "date"


def test_a_date_from_an_earlier_request_is_not_reused(agent):
    session, _ = agent.start(lang="en", today=WEDNESDAY)
    agent.step(session, CallerEvent(text="schedule a payment for friday"))
    agent.step(session, CallerEvent(text="cancel"))
    turn = agent.step(session, CallerEvent(dtmf="4"))           # scheduled payments, by key
    agent.step(session, CallerEvent(dtmf="100200300#"))
    turn = agent.step(session, CallerEvent(dtmf="4321#"))
    assert turn.state == "schedule.new_offer"
