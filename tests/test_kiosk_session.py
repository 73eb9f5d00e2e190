"""The kiosk screen's session and what it shows, without a browser: choices read from the agent's
words, masked entries, the buttons' words understood by the agent, barge-in only with an echo
canceller, a microphone that stops, the idle timeout and "start over" wiping the session."""
from __future__ import annotations

import json
import logging
import threading
import time

import pytest

from voice_agent.app import build
from voice_agent.kiosk.server import _events
from voice_agent.kiosk.session import Audio, Command, KioskSession, Language, Press, StartOver
from voice_agent.kiosk.view import Screen, entry_shown, keyed_choices, ui
from voice_agent.store import Store
from voice_agent.voice.audio import noise

from store_helpers import make_settings


def test_choices_are_the_keys_the_agent_offers_in_any_language():
    menu = "Or use the keypad: press 1 for your balance, 2 to make a payment, or 9 to end the call."
    assert [(c["key"], c["label"]) for c in keyed_choices(menu)] == [
        ("1", "press 1 for your balance"), ("2", "2 to make a payment"), ("9", "or 9 to end the call.")]
    method = ("어떻게 납부하시겠습니까? 직불 카드나 신용 카드로 납부하시려면 카드라고 말씀하시거나 1번을 누르세요. "
              "카드는 수수료가 US$2.50입니다. 은행 계좌에서 납부하시려면 은행 계좌라고 말씀하시거나 2번을 누르세요.")
    assert [c["key"] for c in keyed_choices(method)] == ["1", "2"]      # not the 2 of $2.50
    assert keyed_choices("For example, for fifty dollars, press 5 0 0 0 pound.") == []
    assert keyed_choices("Your balance is $84.20, due on 12/28.") == []


def test_entries_of_secret_kinds_are_dots():
    assert entry_shown("4321", "pin") == "••••"
    assert entry_shown("41111111", "card_number") == "••••••••"       # not even the last four yet
    assert entry_shown("100200", "account_number") == "100200"


def test_the_buttons_words_are_understood(nlu, agent):
    for lang in ("en", "es", "ko"):
        words = ui(lang)
        assert nlu.understand(words["repeat_words"], lang).intent == "repeat", lang
        assert nlu.understand(words["slower_words"], lang).intent == "slower", lang
        for code, name in (("en", "English"), ("es", "Español"), ("ko", "한국어")):
            assert agent.language_in(name, lang) == code, (lang, name)


def test_posts_become_events_and_nothing_else():
    assert _events("press", {"value": "#"}) == [Press("#")]
    assert _events("choose", {"value": "3#"}) == [Press("3"), Press("#")]
    assert _events("press", {"value": "12"}) == [] and _events("choose", {"value": "123"}) == []
    assert _events("command", {"value": "slower"}) == [Command("slower")]
    assert _events("command", {"value": "rm -rf"}) == [] and _events("nothing", {}) == []


class FakeSpeaker:
    def __init__(self):
        self.playing, self.played, self.stops = False, 0, 0

    def play(self, pcm, rate):
        self.played += 1
        self.playing = True             # a reply sounds until something stops it

    def stop(self):
        self.stops += self.playing
        self.playing = False


class FakeMic:
    def __init__(self, clock):
        self.last_audio_at = clock()


@pytest.fixture
def kiosk(tmp_path, monkeypatch):
    """A running session (no server) over a demo database, a fake speaker and a fake clock."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    made = []

    def start(**kiosk_settings):
        settings = make_settings(tmp_path, kiosk={"port": 8765, "idle_timeout_s": 30.0, "idle_warning_s": 10.0,
                                                  "echo_canceller": False, "input_device": "",
                                                  "output_device": "", **kiosk_settings})
        with Store.open(settings) as store:
            store.install_demo()
        services = build(settings)
        now = [1000.0]
        screen = Screen(settings.languages, settings.default_language)
        session = KioskSession(services, settings, screen, speaker=FakeSpeaker(), clock=lambda: now[0])
        stop = threading.Event()
        thread = threading.Thread(target=session.run, args=(stop,), daemon=True)
        thread.start()
        made.append((stop, thread, services))
        return session, screen, now
    yield start
    for stop, thread, services in made:
        stop.set()
        thread.join(timeout=5)
        services.close()


def until(check, what, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def asks(screen, expecting):
    return lambda: (screen.state.get("question") or {}).get("expecting") == expecting


def test_a_key_stops_the_reply_and_speech_does_only_with_an_echo_canceller(kiosk):
    speech = noise(0.6, 16000, 0.2)       # voiced for the voice detector
    for echo_canceller in (False, True):
        session, screen, now = kiosk(echo_canceller=echo_canceller)
        session.put(Language("en"))
        until(asks(screen, "intent"), "the menu")
        speaker = session.speaker
        assert speaker.playing
        for i in range(0, len(speech), 960):
            session.audio(speech[i:i + 960])
        time.sleep(0.5)
        assert speaker.playing is not echo_canceller       # barge-in by voice needs the canceller
        speaker.playing = True
        session.put(Press("2"))
        until(asks(screen, "account_number"), "the account question")
        assert speaker.stops >= 1 and speaker.played >= 2


def test_a_silent_microphone_is_said_and_the_keypad_goes_on(kiosk, caplog):
    session, screen, now = kiosk()
    session.mic = FakeMic(lambda: now[0])
    caplog.set_level(logging.INFO, logger="voice_agent.kiosk.session")
    session.put(Language("en"))
    until(asks(screen, "intent"), "the menu")
    assert screen.state["notice"] is None
    now[0] += 3                                       # no audio for three seconds
    until(lambda: screen.state["notice"] == ui("en")["mic_lost"], "the notice")
    assert any("microphone has delivered no audio" in r.getMessage() for r in caplog.records)
    session.put(Press("2"))
    until(asks(screen, "account_number"), "the account question by keypad")
    session.mic.last_audio_at = now[0]
    until(lambda: screen.state["notice"] is None, "the notice to go")


def test_idle_customers_are_warned_then_wiped(kiosk):
    session, screen, now = kiosk(idle_timeout_s=30.0, idle_warning_s=10.0)
    session.put(Language("es"))
    until(asks(screen, "intent"), "the menu")
    session.put(Press("2"))
    until(asks(screen, "account_number"), "the account question")
    for key in "100200300#":
        session.put(Press(key))
    until(asks(screen, "pin"), "the PIN question")
    now[0] += 21
    until(lambda: screen.state["warning"] == ui("es")["idle_warning"], "the warning")
    assert screen.state["phase"] == "call"
    now[0] += 10
    until(lambda: screen.state["phase"] == "welcome", "the welcome page")
    shown = json.dumps(screen.state, ensure_ascii=False)
    assert screen.state["lang"] == "en" and screen.state["captions"] == []
    assert "100200300" not in shown and "Jane" not in shown and screen.state["warning"] is None
    with Store.open(session.settings) as store:
        calls = store.calls()
    assert [c["outcome"] for c in calls] == ["abandoned"]


def test_language_repeat_and_slower_buttons_then_start_over_wipes_at_once(kiosk):
    session, screen, now = kiosk()
    session.put(Language("ko"))
    until(asks(screen, "intent"), "the menu")
    assert screen.state["lang"] == "ko"
    session.put(Language("es"))                      # mid-call: the call goes on in Spanish
    until(lambda: screen.state["lang"] == "es", "Spanish")
    before = screen.state["captions"]
    session.put(Command("repeat"))
    until(lambda: screen.state["captions"] != before, "the repeat")
    question = before[-1]["text"].split(". ")[-1]
    assert question in screen.state["captions"][-1]["text"]     # the question again
    assert screen.state["captions"][-2] == {"who": "caller", "text": ui("es")["repeat_words"]}
    session.put(Command("slower"))
    until(lambda: screen.state["captions"][-2]["text"] == ui("es")["slower_words"], "slower")
    session.put(StartOver())
    until(lambda: screen.state["phase"] == "welcome", "the welcome page")
    assert screen.state["captions"] == [] and screen.state["lang"] == "en"
    session.put(Audio(b"\0\0" * 480))                # silence does not start a call
    time.sleep(0.3)
    assert screen.state["phase"] == "welcome"


def test_sound_devices_by_name(monkeypatch):
    from types import SimpleNamespace

    from voice_agent.voice import kiosk as sound
    devices = [{"name": "HDA Intel PCH: ALC257 Analog (hw:0,0)", "max_input_channels": 2, "max_output_channels": 2},
               {"name": "USB Audio Device: Speaker (hw:1,0)", "max_input_channels": 0, "max_output_channels": 2},
               {"name": "pulse", "max_input_channels": 32, "max_output_channels": 32}]
    monkeypatch.setattr(sound, "_sounddevice", lambda: SimpleNamespace(query_devices=lambda: devices))
    assert sound.find_device("pulse", "input") == 2
    assert sound.find_device("usb audio", "output") == 1
    assert sound.find_device("", "input") is None and sound.find_device("3", "output") == 3
    with pytest.raises(sound.KioskError, match="no input device named 'USB Audio'"):
        sound.find_device("USB Audio", "input")           # a speaker is not a microphone


def test_the_idle_warning_comes_before_the_timeout(tmp_path):
    from voice_agent.settings_schema import SettingsError
    with pytest.raises(SettingsError, match="idle_warning_s < idle_timeout_s"):
        make_settings(tmp_path, kiosk={"port": 8765, "idle_timeout_s": 10.0, "idle_warning_s": 10.0,
                                       "echo_canceller": False, "input_device": "", "output_device": ""})
