"""The voiced call without a speech model: keypad turns, silence, bad audio, captions, redaction,
the live turn listener and the kiosk loop with fake devices."""
from __future__ import annotations

import json
import queue

import pytest

from voice_agent.cli import main
from voice_agent.redact import redact_entry
from voice_agent.settings import load_settings
from voice_agent.voice import dtmf
from voice_agent.voice.audio import from_pcm16, noise, read_wav, silence, write_wav
from voice_agent.voice.endpoint import NoInput, Utterance
from voice_agent.voice.pipeline import VoiceCall
from voice_agent.voice.turns import TurnLoop

from voice_helpers import needs_espeak, wav_bytes

FAST = ["--set", "password_hash.n=1024"]


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    db = tmp_path / "v.db"
    assert main(["db", "init", "--demo", "--db", str(db), *FAST]) == 0
    settings = load_settings(env={}, cli={"database": str(db)}, sets=FAST[1:])
    return tmp_path, db, settings


def keys_wav(path, keys, rate=16000):
    return write_wav(path, dtmf.generate(keys, rate) + silence(0.3, rate), rate)


def open_parts(settings):
    from voice_agent.app import build
    services = build(settings)
    return services.store, services.nlu, services.agent


@needs_espeak
def test_keypad_only_call_pays_and_transcript_hides_secrets(env, capsys):
    tmp, db, settings = env
    turns = ["3", "2", "300400500#", "8642#", "2", "1", "4111111111111111#", "1230#", "1", "2", "9"]
    files = [str(keys_wav(tmp / f"t{i:02d}.wav", k, 8000 if i % 2 else 16000))
             for i, k in enumerate(turns)]
    out = tmp / "out"
    assert main(["call", *files, "--out-dir", str(out), "--db", str(db), *FAST]) == 0
    printed = capsys.readouterr().out
    transcript = json.loads((out / "transcript.json").read_text())
    assert transcript["outcome"] == "paid"
    assert [t["dtmf"] for t in transcript["turns"][1:4]] == ["3", "2", "*********#"]
    text = (out / "transcript.json").read_text() + printed
    assert "8642" not in text and "4111111111111111" not in text and "1230#" not in text
    assert "************1111" in text
    for t in transcript["turns"]:
        assert (out / t["reply_audio"]).is_file() and t["expecting"]
        pcm, rate = read_wav(out / t["reply_audio"])
        assert (len(pcm) > 0) == bool(t["reply"])
    assert main(["payments", "list", "--db", str(db), "--json", *FAST]) == 0
    payments = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(p["account_number"] == "300400500" and p["amount_cents"] == 9800 for p in payments)


@needs_espeak
@pytest.mark.parametrize("kind", ["silence", "empty", "noise", "u8", "stereo44", "mulaw8k"])
def test_odd_audio_is_no_input_or_keys_never_a_crash(env, kind):
    tmp, db, settings = env
    path = tmp / f"{kind}.wav"
    if kind == "silence":
        write_wav(path, silence(3, 16000), 16000)
    elif kind == "empty":
        write_wav(path, b"", 16000)
    elif kind == "noise":
        write_wav(path, noise(3, 16000, 0.1), 16000)
    else:
        rate, channels, enc = {"u8": (22050, 1, "u8"), "stereo44": (44100, 2, "pcm16"),
                               "mulaw8k": (8000, 1, "mulaw")}[kind]
        samples = from_pcm16(dtmf.generate("3", rate))
        path.write_bytes(wav_bytes(samples, rate, channels, enc))
    out = tmp / "out"
    assert main(["call", str(path), "--out-dir", str(out), "--db", str(db), *FAST]) == 0
    turn = json.loads((out / "transcript.json").read_text())["turns"][1]
    if kind in ("silence", "empty", "noise"):
        assert turn["no_input"] and turn["expecting"] == "language"
    else:
        assert turn["dtmf"] == "3" and turn["lang"] == "ko"


@pytest.mark.parametrize("content,message", [(b"", "empty"), (b"not a wav", "not a WAV")])
def test_unusable_files_stop_before_the_call(env, capsys, content, message):
    tmp, db, settings = env
    good = keys_wav(tmp / "good.wav", "1")
    bad = tmp / "bad.wav"
    bad.write_bytes(content)
    before = db.read_bytes()
    assert main(["call", str(good), str(bad), "--out-dir", str(tmp / "o"), "--db", str(db), *FAST]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp / "o").exists()
    assert db.read_bytes() == before                 # a bad file changes nothing


def test_call_with_an_unwritable_out_dir_is_a_clear_message(tmp_path, capsys):
    wav = keys_wav(tmp_path / "k.wav", "1")
    (tmp_path / "file").write_text("x")
    assert main(["call", str(wav), "--out-dir", str(tmp_path / "file" / "out")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_call_needs_a_database(tmp_path, capsys):
    wav = keys_wav(tmp_path / "k.wav", "1")
    assert main(["call", str(wav), "--out-dir", str(tmp_path / "o"), "--db", str(tmp_path / "none.db")]) == 2
    assert "db init" in capsys.readouterr().err


def test_truncated_turn_file_still_plays(env):
    tmp, db, settings = env
    data = (keys_wav(tmp / "k.wav", "3")).read_bytes()
    (tmp / "cut.wav").write_bytes(data[: len(data) - 2001])
    assert main(["call", str(tmp / "cut.wav"), "--out-dir", str(tmp / "o"), "--db", str(db), *FAST]) == 0


def test_redaction_rules():
    assert redact_entry("8642#", "pin") == "[redacted]"
    assert redact_entry("4111111111111111#", "card_number") == "************1111"
    assert redact_entry("300400500#", "account_number") == "*********#"     # 4+ digits, any step
    assert redact_entry(None, "pin") is None


def test_greeting_is_spoken_in_each_language_of_the_menu(env):
    tmp, db, settings = env
    store, nlu, agent = open_parts(settings)
    try:
        session, turn = agent.start()
        runs = turn.segments
        assert [lang for lang, _ in runs] == ["en", "es", "ko"]
        assert "español" in runs[1][1] and "한국어" in runs[2][1]
        assert " ".join(t for _, t in runs) == turn.say
        assert "segments" not in json.loads(turn.to_json())
    finally:
        store.close()


def test_listener_keys_end_at_hash_or_pause_and_silence_is_no_input():
    settings = load_settings(env={}, sets=["audio.no_input_timeout_s=2.0"])
    lis = TurnLoop(settings["audio"], 16000, key_pause_s=1.0)
    def chunks(pcm):
        return [pcm[i:i + 960] for i in range(0, len(pcm), 960)]
    got = [r for c in chunks(dtmf.generate("123#", 16000)) if (r := lis.feed(c))]
    assert got[0].keys == "123#"
    got = [r for c in chunks(dtmf.generate("45", 16000) + silence(1.5, 16000)) if (r := lis.feed(c))]
    assert got[0].keys == "45"
    got = [r for c in chunks(silence(2.5, 16000)) if (r := lis.feed(c))]
    assert isinstance(got[0], NoInput)


class FakeRecognizer:
    """Stands in for Vosk: what it was asked to expect, and a scripted answer."""

    def __init__(self, answers):
        self.answers, self.expected = list(answers), []

    def expect(self, expecting, lang=None):
        self.expected.append(expecting)

    def recognize(self, pcm):
        from voice_agent.voice.asr import AsrResult
        text = self.answers.pop(0)
        return AsrResult(text, 0.95, "accept", grammar=True)


def test_kiosk_loop_with_fake_microphone_speaker_and_keyboard(env):
    from voice_agent.voice.kiosk import kiosk_loop
    tmp, db, settings = env
    store, nlu, agent = open_parts(settings)
    fake = FakeRecognizer(["요금 낼게요"])
    played, shown = [], []
    speech = noise(0.6, 16000, 0.2)    # voiced for the VAD; the fake recognizer supplies the words
    audio = (dtmf.generate("3", 16000) + silence(3.5, 16000) + speech + silence(1.0, 16000)
             + dtmf.generate("300400500#", 16000) + silence(0.5, 16000))
    mic = [audio[i:i + 960] for i in range(0, len(audio), 960)]
    keys: queue.Queue = queue.Queue()
    try:
        call = VoiceCall(agent, settings, nlu, channel="kiosk",
                         recognizer_factory=lambda lang, rate: fake if lang == "ko" else None)
        kiosk_loop(call, settings, mic, lambda pcm, rate: played.append((len(pcm), rate)), keys,
                   show=shown.append)
    finally:
        store.close()
    states = [ex.turn.state for ex in call.exchanges]
    assert states[:4] == ["language.choose", "menu.intent", "verify.account_number", "verify.pin"]
    assert fake.expected == ["intent"]
    assert len(played) == len(call.exchanges) and all(n > 0 for n, _ in played)
    assert any("요금 낼게요" in line for line in shown) and any("agent [ko]" in line for line in shown)
    assert call.ended                                  # the microphone ran dry: hung up


def test_kiosk_typed_keys_and_quit(env):
    from voice_agent.voice.kiosk import kiosk_loop
    tmp, db, settings = env
    store, nlu, agent = open_parts(settings)
    keys: queue.Queue = queue.Queue()
    keys.put("3")
    keys.put("q")
    try:
        call = VoiceCall(agent, settings, nlu, channel="kiosk", recognizer_factory=lambda lang, rate: None)
        kiosk_loop(call, settings, iter(lambda: silence(0.03, 16000), None), lambda p, r: None, keys,
                   show=lambda s: None)
    finally:
        store.close()
    assert call.exchanges[1].turn.lang == "ko" and call.ended


def test_run_without_sound_devices_says_what_to_do(capsys, monkeypatch):
    # The terminal loop (headless) needs sound; the screen (plain `run`) does not.
    from voice_agent.voice import kiosk
    monkeypatch.setattr(kiosk, "kiosk_possible", lambda *a, **k: (False, "no microphone found"))
    assert main(["run", "--no-screen"]) == 2
    err = capsys.readouterr().err
    assert "no microphone found" in err and "voice-agent chat" in err


def test_speech_without_a_model_is_treated_as_not_understood(env):
    tmp, db, settings = env
    store, nlu, agent = open_parts(settings)
    try:
        call = VoiceCall(agent, settings, nlu, recognizer_factory=lambda lang, rate: None)
        call.start()
        heard = call.hear_utterance(Utterance(noise(1, 16000, 0.1), 16000, 0.0, 1.0))
        assert heard.no_input and "no speech model" in heard.note
    finally:
        store.close()


@needs_espeak
def test_slower_turns_are_rendered_at_the_slow_rate(tmp_path, monkeypatch):
    from types import SimpleNamespace
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    settings = load_settings(env={})
    call = VoiceCall(agent=None, settings=settings)
    turn = SimpleNamespace(say="계정 번호를 말씀해 주세요.", lang="ko", slow=False,
                           segments=(("ko", "계정 번호를 말씀해 주세요."),))
    normal, rate = call.speak(turn)
    slow, _ = call.speak(SimpleNamespace(**{**vars(turn), "slow": True}))
    assert len(slow) > len(normal) * 1.2 and rate == 22050


def test_language_menu_speech_uses_any_language_with_a_model(env):
    tmp, db, settings = env
    store, nlu, agent = open_parts(settings)
    fake = FakeRecognizer(["한국어"])
    try:
        call = VoiceCall(agent, settings, nlu,
                         recognizer_factory=lambda lang, rate: fake if lang == "ko" else None)
        call.start()                                    # the menu, in English first: no en model
        heard = call.hear_utterance(Utterance(noise(1, 16000, 0.1), 16000, 0.0, 1.0))
        assert heard.text == "한국어" and fake.expected == ["language"]
        assert call.respond(heard).turn.lang == "ko"
    finally:
        store.close()


class StreamingFakeRecognizer(FakeRecognizer):
    """A fake that can be fed as audio arrives, like asr.Recognizer."""

    def __init__(self, answers):
        super().__init__(answers)
        self.fed, self.calls = 0, []

    def start(self):
        self.calls.append("start")

    def feed(self, pcm):
        self.fed += len(pcm)
        self.calls.append("feed")

    def finish(self):
        from voice_agent.voice.asr import AsrResult
        self.calls.append("finish")
        return AsrResult(self.answers.pop(0), 0.95, "accept", grammar=True)

    def recognize(self, pcm):
        raise AssertionError("a streamed utterance must not be decoded again")


def test_live_listener_decodes_while_the_caller_speaks(env):
    tmp, db, settings = env
    store, nlu, agent = open_parts(settings)
    fake = StreamingFakeRecognizer(["한국어"])
    try:
        call = VoiceCall(agent, settings, nlu,
                         recognizer_factory=lambda lang, rate: fake if lang == "ko" else None)
        call.start()                                    # the language menu: a short answer
        listener = call.turn_loop(16000)
        listener.start(call.turn.expecting)
        audio = silence(0.3, 16000) + noise(0.6, 16000, 0.2) + silence(1.5, 16000)
        found, waited = None, 0.0
        for pos in range(0, len(audio), 640):
            found = listener.feed(audio[pos: pos + 640])
            if found is not None:
                break
            if fake.fed:
                waited += 0.02
        assert isinstance(found, Utterance)
        assert fake.calls[0] == "start" and fake.fed > 16000 and "finish" not in fake.calls
        assert 0.5 + 0.5 <= waited + 0.02 <= 0.6 + 0.5 + 0.1   # speech + the short 500 ms wait
        heard = call.hear(found)
        assert heard.text == "한국어" and fake.calls[-1] == "finish"
        assert fake.expected == ["language"]
        assert call.respond(heard).turn.lang == "ko"
    finally:
        store.close()


class RecordingSynth:
    """Stands in for the voices: what was said in which language."""

    def __init__(self):
        self.said = []

    def render_pcm(self, text, lang, slow=False):
        self.said.append((lang, text))
        return b"\x01\x00" * 1600, 16000


def test_a_reply_is_spoken_segment_by_segment_in_each_language(env):
    tmp, db, settings = env
    store, nlu, agent = open_parts(settings)
    synth = RecordingSynth()
    try:
        call = VoiceCall(agent, settings, nlu, synthesizer=synth)
        greeting = call.start()
        assert synth.said == list(greeting.turn.segments)
        assert [lang for lang, _ in synth.said] == ["en", "es", "ko"]
        pause = len(silence(0.15, 16000))
        assert len(greeting.reply_pcm) == 3 * 3200 + 2 * pause
    finally:
        store.close()
