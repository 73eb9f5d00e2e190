"""The recognizer: crash guards against a recording fake of Vosk, and the real Korean model."""
from __future__ import annotations

import json
import math

import pytest

from voice_agent.settings import load_settings
from voice_agent.voice import asr
from voice_agent.voice.audio import mix, noise, read_wav, silence

from nlu_helpers import FakeNLU
from voice_helpers import espeak, needs_espeak, needs_model


# ---------------------------------------------------------------- fake Vosk (no model needed)
class Crash(AssertionError):
    """What would have killed the process with the real library."""


class FakeKaldi:
    log: list = []

    made: list = []

    def __init__(self, model, rate, grammar=None):
        self.running = False
        self.fed = self.finals = 0
        self.made.append(self)
        self.log.append(("new", grammar))
        if grammar is not None:
            self._check(grammar)
        self.grammar = grammar
        self.script = model.script

    @staticmethod
    def _check(grammar):
        if not isinstance(grammar, str) or not grammar:
            raise Crash("empty grammar string")
        data = json.loads(grammar)                    # invalid JSON crashes the real one
        if data == [] and grammar != "[]":
            raise Crash("bad grammar")
        if "\\u" in grammar:
            raise Crash("escaped non-ASCII: Vosk would not find the words")

    def SetGrammar(self, grammar):
        if self.running:
            raise Crash("SetGrammar in the middle of an utterance")
        self._check(grammar)
        if grammar == "[]":
            raise Crash("the grammar recognizer must never go back to open vocabulary")
        self.log.append(("grammar", grammar))
        self.grammar = grammar

    def SetWords(self, on): pass

    def SetMaxAlternatives(self, n):
        self.alternatives = n

    def Reset(self):
        self.running = False
        self.log.append(("reset",))

    def AcceptWaveform(self, data):
        if not isinstance(data, bytes) or len(data) % 2:
            raise Crash("AcceptWaveform needs bytes of whole samples")
        self.running = True
        self.fed += 1
        return False

    def FinalResult(self):
        self.running = False
        self.finals += 1
        text, conf = self.script(self.grammar)
        if getattr(self, "alternatives", 0):
            # An n-best list like Vosk's: weaker competitors hold the mass the scripted
            # confidence leaves to them, so the word posteriors come out at that confidence.
            alts = [{"text": text, "confidence": 100.0}]
            if conf < 1.0:
                k = int((1 - conf) / conf) + 1
                alts += [{"text": f"x{i}", "confidence": 100.0 + math.log((1 - conf) / k / conf)}
                         for i in range(k)]
            else:
                alts.append({"text": "x", "confidence": 90.0})
            return json.dumps({"alternatives": alts})
        words = [{"word": w, "conf": conf} for w in text.split()]
        return json.dumps({"text": text, "result": words})


class FakeModelHandle:
    def __init__(self, vocab, script):
        self.vocab, self.script = set(vocab), script

    def vosk_model_find_word(self, w):
        return 1 if w in self.vocab else -1


class FakeVosk:
    KaldiRecognizer = FakeKaldi

    @staticmethod
    def SetLogLevel(n): pass


@pytest.fixture()
def fake(monkeypatch):
    FakeKaldi.log = []
    FakeKaldi.made = []
    monkeypatch.setattr(asr, "_vosk_module", lambda: FakeVosk)

    def build(script, vocab=("예", "네", "아니요", "아니오", "한국어", "영어", "<UNK>"), model=None):
        model = model or asr.SpeechModel(FakeModelHandle(vocab, script))
        return asr.Recognizer(model, 16000, "ko", FakeNLU())
    return build


SPEECH = silence(0.1, 16000) + b"\x10\x00" * 8000


def test_grammar_is_utf8_json_of_known_words_with_the_unknown_token(fake):
    rec = fake(lambda g: ("네", 0.95))
    rec.expect("confirm")
    assert rec.grammar_words == ["예", "네", "아니요", "아니오", "<UNK>"]
    rec.recognize(SPEECH)
    created = [e for e in FakeKaldi.log if e[0] == "new" and e[1]]
    assert json.loads(created[0][1]) == rec.grammar_words and "\\u" not in created[0][1]


def test_no_usable_words_means_open_vocabulary_never_an_empty_grammar(fake):
    rec = fake(lambda g: ("무엇", 0.9))
    for expect in ("bogus", "intent", None, "none"):
        rec.expect(expect)
        assert rec.grammar_words == []
        result = rec.recognize(SPEECH)
        assert not result.grammar
    assert all(e[1] is None for e in FakeKaldi.log if e[0] == "new")


def test_switching_grammar_resets_first_and_never_mid_utterance(fake):
    rec = fake(lambda g: ("네", 0.9))
    rec.expect("confirm")
    rec.recognize(SPEECH)
    rec.expect("language")
    rec.start()
    rec.feed(SPEECH)
    with pytest.raises(RuntimeError, match="middle of an utterance"):
        rec.expect("confirm")
    rec.finish()
    rec.expect("confirm")
    rec.recognize(SPEECH)
    grammar_events = [i for i, e in enumerate(FakeKaldi.log) if e[0] == "grammar"]
    assert len(grammar_events) == 2
    for i in grammar_events:
        assert FakeKaldi.log[i - 1] == ("reset",)


def test_speech_outside_the_grammar_falls_back_to_open_vocabulary(fake):
    def script(grammar):
        return ("<UNK>", 0.9) if grammar else ("아니요 괜찮아요", 0.9)
    rec = fake(script)
    rec.expect("confirm")
    result = rec.recognize(SPEECH)
    # the grammar heard only its unknown-word token: the open decode is the one that heard it
    assert not result.grammar and result.text == "아니요 괜찮아요" and result.value == "no"
    assert rec.open_ran and rec.decodes == ["answers", "open"]


def test_an_unsure_answer_made_of_grammar_words_is_kept_without_the_open_vocabulary(fake):
    rec = fake(lambda g: ("아니요", 0.4) if g else ("아니요 괜찮아요", 0.9))
    rec.expect("confirm")
    result = rec.recognize(SPEECH)
    # left to the dialogue's read-back; the open vocabulary costs three grammar decodes
    assert result.grammar and result.value == "no" and result.band != "accept"
    assert _by_grammar(False) == [] and not rec.open_ran


class StagedNLU(FakeNLU):
    """A step whose answers are a few words and whose whole grammar adds a command."""

    def grammar_phrases(self, lang, expect, answers_only=False):
        answers = ["네", "아니요"] if expect == "confirm" else super().grammar_phrases(lang, expect)
        return answers if answers_only or expect != "confirm" else answers + ["상담원"]


def staged(fake, script, **kw):
    rec = fake(script, vocab=("네", "아니요", "상담원", "<UNK>"))
    rec.nlu = StagedNLU()
    rec.expect("confirm")
    return rec


def test_the_answers_grammar_is_decoded_first_and_alone_when_it_is_sure(fake):
    rec = staged(fake, lambda g: ("네", 1.0))
    assert rec.grammars == [["네", "아니요", "<UNK>"], ["네", "아니요", "상담원", "<UNK>"]]
    assert rec.grammar_words == ["네", "아니요", "<UNK>"]
    result = rec.recognize(SPEECH)
    assert result.value == "yes" and rec.decodes == ["answers"]
    (only,) = FakeKaldi.made
    assert json.loads(only.grammar) == ["네", "아니요", "<UNK>"]


def test_an_unsure_answer_is_checked_against_the_steps_whole_grammar(fake):
    # "상담원" forced onto a weak "네" by the answers' grammar, heard plainly by the whole one
    def script(grammar):
        return ("상담원", 1.0) if "상담원" in json.loads(grammar) else ("<UNK> 네", 0.6)
    rec = staged(fake, script)
    result = rec.recognize(SPEECH)
    assert rec.decodes == ["answers", "grammar"] and not rec.open_ran
    assert result.text == "상담원" and result.value is None and result.band == "accept"
    answers, whole = _by_grammar(True)
    assert answers.fed == 1 and whole.fed == 1           # the whole utterance, decoded after


def test_confident_grammar_result_is_kept(fake):
    rec = fake(lambda g: ("네", 1.0) if g else ("내", 0.3))
    rec.expect("confirm")
    result = rec.recognize(SPEECH)
    assert result.grammar and result.value == "yes" and result.band == "accept"
    # What it was parsed as travels with it (pipeline.Heard.event -> CallerEvent).
    assert (result.kind, result.lang) == ("yes_no", "ko")


def test_an_unparsed_result_has_no_kind(fake):
    rec = fake(lambda g: ("한국어", 1.0))
    rec.expect("intent")
    result = rec.recognize(SPEECH)
    assert result.text == "한국어" and result.kind is None and result.value is None


def test_unknown_word_hits_lower_confidence(fake):
    rec = fake(lambda g: ("네 <UNK> <UNK>", 1.0) if g else ("", 0.0))
    rec.expect("confirm")
    result = rec.recognize(SPEECH)
    assert result.text == "네" and result.signals["unknown"] == 2
    assert result.confidence < 0.5 and result.band == "reject"


@pytest.mark.parametrize("confs,unk,share,fuzzy,expected", [
    ([1.0], 0, 1.0, 1.0, "accept"), ([0.6], 0, 0.6, 1.0, "confirm"), ([0.2], 0, 0.3, 0.2, "reject"),
    ([1.0, 1.0], 2, 1.0, 1.0, "confirm"), ([], 0, None, None, "reject")])
def test_confidence_bands(confs, unk, share, fuzzy, expected):
    value = asr.combine(confs, unk, share, fuzzy)
    assert asr.band(value, 0.85, 0.5) == expected


def test_signals_helpers():
    assert asr.alternative_share([10.0]) == 1.0
    assert asr.alternative_share([10.0, 10.0]) == pytest.approx(0.5)
    assert asr.fuzzy_match("아니요", ["아니요", "네"]) == 1.0
    assert asr.fuzzy_match("", ["네"]) == 0.0 and asr.fuzzy_match("x", []) is None
    assert asr.is_filler("<UNK>") and asr.is_filler("[noise]") and not asr.is_filler("네")


def test_noise_is_rejected_before_any_decode(fake):
    rec = fake(lambda g: ("아니오", 1.0))
    rec.expect("confirm")
    result = rec.recognize(noise(1.5, 16000, 0.1))
    assert result.text == "" and result.band == "reject"


def _by_grammar(grammar: bool):
    return [k for k in FakeKaldi.made if (k.grammar not in (None, "[]")) == grammar]


def test_a_grammar_turn_is_decoded_once_with_its_n_best(fake):
    rec = fake(lambda g: ("네", 1.0) if g else ("내", 0.3))
    rec.expect("confirm")
    rec.model.note_fallback("ko", "confirm", False)      # fallbacks rare: no open stream
    for _ in range(8):
        rec.model.note_fallback("ko", "confirm", False)
    result = rec.recognize(SPEECH)
    assert result.band == "accept" and result.alternatives == ("x",)
    (grammar_rec,) = _by_grammar(True)
    assert grammar_rec.fed == 1 and grammar_rec.alternatives >= 3     # one pass, n-best on it
    assert _by_grammar(False) == []                                   # no open decode at all


def test_open_vocabulary_is_streamed_while_fallbacks_are_likely(fake):
    rec = fake(lambda g: ("<UNK>", 0.4) if g else ("일 이 삼", 0.9),
               vocab=("일", "이", "삼", "공", "<UNK>"))
    rec.expect("account_number")
    assert not rec.model.fallback_likely("ko", "account_number")   # nothing known: assume not
    rec.model.note_fallback("ko", "account_number", True)
    rec.model.note_fallback("ko", "account_number", True)
    assert rec.model.fallback_likely("ko", "account_number")
    rec.start()
    for _ in range(3):
        rec.feed(SPEECH)                                     # as the audio arrives
    (open_rec,) = _by_grammar(False)
    assert open_rec.fed == 3 and rec.streamed_open
    result = rec.finish()
    assert not result.grammar and result.text == "일 이 삼"
    assert open_rec.fed == 3 and open_rec.finals == 1      # finished, not decoded again


def test_a_short_answer_never_streams_the_open_vocabulary(fake):
    rec = fake(lambda g: ("<UNK>", 0.4) if g else ("아니요 괜찮아요", 0.9))
    rec.expect("confirm")
    for _ in range(5):
        rec.model.note_fallback("ko", "confirm", True)
    rec.start()
    rec.feed(SPEECH)
    assert _by_grammar(False) == [] and not rec.streamed_open   # decoded again if needed
    assert rec.finish().text == "아니요 괜찮아요" and rec.open_ran


def test_fallback_without_a_stream_decodes_the_utterance_again(fake):
    rec = fake(lambda g: ("<UNK>", 0.4) if g else ("아니요 괜찮아요", 0.9))
    rec.expect("confirm")
    assert not rec.model.fallback_likely("ko", "confirm")
    rec.start()
    rec.feed(SPEECH)
    rec.feed(SPEECH)
    assert _by_grammar(False) == [] and not rec.streamed_open
    result = rec.finish()
    (open_rec,) = _by_grammar(False)
    assert open_rec.fed == 1 and result.text == "아니요 괜찮아요"    # the whole buffer at once
    rec.model.note_fallback("ko", "confirm", True)
    rec.model.note_fallback("ko", "confirm", True)
    assert rec.model.fallback_likely("ko", "confirm")


def test_open_recognizers_are_handed_to_the_next_call_finished(fake):
    first = fake(lambda g: ("무엇", 0.9))
    first.expect("intent")
    first.start()
    first.feed(SPEECH)
    first.close()                                           # hung up mid-utterance
    (open_rec,) = FakeKaldi.made
    assert open_rec.finals == 1 and not open_rec.running and first.model.idle_open == 1
    second = fake(None, model=first.model)
    second.expect("intent")
    second.recognize(SPEECH)
    assert FakeKaldi.made == [open_rec]                     # warm one reused, none created


def test_a_cancelled_utterance_allows_a_new_grammar(fake):
    rec = fake(lambda g: ("네", 0.9))
    rec.expect("confirm")
    rec.start()
    rec.feed(SPEECH)
    rec.cancel()                                            # keys ended the turn
    rec.expect("language")                                  # no longer mid-utterance
    assert rec.recognize(SPEECH).text == "네"               # Crash would be raised otherwise


def test_warm_up_decodes_on_a_pooled_recognizer(fake):
    rec = fake(lambda g: ("무엇", 0.9))
    spent = rec.model.warm(16000, [SPEECH, b"", SPEECH + b"\x00"])
    (warmed,) = FakeKaldi.made
    assert spent >= 0 and warmed.fed == 2 and warmed.finals == 2 and rec.model.idle_open == 1
    rec.expect(None)
    rec.recognize(SPEECH)
    assert FakeKaldi.made == [warmed]                     # the first call gets the warm one


def test_word_posteriors_from_the_n_best():
    def w(word, start, end):
        return {"word": word, "start": start, "end": end}
    data = {"alternatives": [
        {"text": "네 맞아요", "confidence": 10.0, "result": [w("네", 0.1, 0.3), w("맞아요", 0.4, 0.8)]},
        {"text": "네 아니요", "confidence": 10.0, "result": [w("네", 0.1, 0.3), w("아니요", 0.4, 0.8)]},
        {"text": "", "confidence": 10.0 + math.log(2.0)}]}
    final, scored = asr.from_nbest(data)
    assert final["text"] == "네 맞아요" and [s for _, s in scored][0] == 10.0
    assert [round(x["conf"], 3) for x in final["result"]] == [0.5, 0.25]
    assert asr.from_nbest({}) == ({"text": ""}, [])


# ---------------------------------------------------------------- the real Korean model
@pytest.fixture(scope="session")
def ko_model():
    from voice_agent.voice.models import find_model
    settings = load_settings(env={})
    return settings, asr.load_model(find_model(settings, "ko").path)


def spoken(tmp_path, text, speed=175):
    pcm, _ = read_wav(espeak(text, "ko", tmp_path / "t.wav", speed), 16000)
    return silence(0.3, 16000) + pcm + silence(0.5, 16000)


@pytest.mark.model
@needs_model
@needs_espeak
def test_real_model_grammar_switching(ko_model, tmp_path):
    settings, model = ko_model
    assert model.unknown == "<UNK>"            # the Korean model's token, not [unk]
    rec = asr.Recognizer.from_settings(model, settings, 16000, "ko", FakeNLU())
    rec.expect("confirm")
    yes = rec.recognize(spoken(tmp_path, "네"))
    assert yes.text == "네" and yes.value == "yes" and yes.grammar and yes.band == "accept"
    rec.expect("language")
    lang = rec.recognize(spoken(tmp_path, "스페인어"))
    assert lang.text == "스페인어" and lang.grammar
    rec.expect("intent")                  # no grammar words known -> open vocabulary
    agent = rec.recognize(spoken(tmp_path, "상담원"))
    assert not agent.grammar or agent.text == "상담원"
    rec.expect("confirm")                 # and back to a grammar on the same recognizer
    again = rec.recognize(spoken(tmp_path, "네"))
    assert again.text == "네" and again.grammar


@pytest.mark.model
@needs_model
@needs_espeak
def test_real_model_confidence_bands_on_real_audio(ko_model, tmp_path):
    settings, model = ko_model
    rec = asr.Recognizer.from_settings(model, settings, 16000, "ko", FakeNLU())
    rec.expect("confirm")
    clean = rec.recognize(spoken(tmp_path, "네"))
    hiss = rec.recognize(noise(2.0, 16000, 0.1))
    quiet = rec.recognize(silence(1.0, 16000))
    assert clean.band == "accept"
    assert hiss.band == "reject" and hiss.text == ""
    assert quiet.band == "reject" and quiet.text == ""
    noisy = rec.recognize(mix(spoken(tmp_path, "네"), noise(1.5, 16000, 0.01)))
    assert noisy.text == "네" and noisy.band in ("accept", "confirm")


@pytest.mark.model
@needs_model
@needs_espeak
def test_real_model_at_8k(ko_model, tmp_path):
    settings, model = ko_model
    from voice_agent.voice.audio import convert
    rec = asr.Recognizer.from_settings(model, settings, 8000, "ko", FakeNLU())
    rec.expect("confirm")
    result = rec.recognize(convert(spoken(tmp_path, "네"), 16000, 8000))
    assert result.text == "네"


@pytest.mark.model
@needs_model
@needs_espeak
def test_real_model_warm_up_leaves_a_warm_recognizer_for_the_first_call(ko_model, tmp_path,
                                                                         monkeypatch, nlu):
    from voice_agent.voice.pipeline import warm_up
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    settings, model = ko_model
    before = model.idle_open
    spent = warm_up(settings, nlu, ["ko"], phrases=2)
    assert spent["ko"] > 0 and model.idle_open == min(before + 1, model.keep_idle)


@pytest.mark.model
@needs_model
@needs_espeak
def test_real_model_phone_line_warm_up_pools_an_8k_recognizer(ko_model, tmp_path, monkeypatch,
                                                               nlu):
    from voice_agent.cli.sip_cmds import warm_phone_line
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    settings, model = ko_model
    spent = warm_phone_line(settings, nlu, {"ko": model.path})
    assert spent["ko"] > 0 and model._idle.get(8000)       # serve's first caller gets it warm
    assert warm_phone_line(settings, None, {"ko": model.path}) == {}   # nothing to warm with


def test_a_split_form_of_a_word_the_model_knows_whole_is_left_out(fake):
    rec = fake(lambda g: ("네", 1.0), vocab=("스페인어", "스페인", "어", "맞", "아요", "<UNK>"))
    kept = rec.model.grammar(["스페인어", "스페인 어", "맞아요", "맞 아요"])
    # "맞아요" is not a word of this model: its split form is how it can be heard at all
    assert kept == ["스페인어", "맞 아요", "<UNK>"]


def test_a_short_answer_pieced_together_off_the_list_is_never_taken_as_sure(fake):
    # "repeat that" forced onto yes/no words in an order no phrase has: it parses as a yes,
    # but it is not an answer that was listed, so it is checked against the whole grammar and,
    # heard no better there, left unsure (the dialogue reads it back or asks again)
    rec = staged(fake, lambda g: ("네 아니요 네", 1.0) if "상담원" not in json.loads(g)
                 else ("네 상담원 아니요", 0.9))
    result = rec.recognize(SPEECH)
    assert rec.decodes == ["answers", "grammar"]
    assert result.band == "confirm" and result.signals["off_list"] == 1.0
    listed = staged(fake, lambda g: ("아니요", 1.0))
    assert listed.recognize(SPEECH).band == "accept" and listed.decodes == ["answers"]


def test_warm_up_can_pool_one_recognizer_per_thread(fake):
    rec = fake(lambda g: ("무엇", 0.9))
    rec.model.warm(16000, [SPEECH], recognizers=2)
    assert len(FakeKaldi.made) == 2 and rec.model.idle_open == 2
    assert all(k.fed == 1 and k.finals == 1 for k in FakeKaldi.made)


@pytest.mark.model
@needs_model
@needs_espeak
def test_real_model_a_pause_fed_again_shows_the_last_word_in_the_partial(ko_model, tmp_path):
    # Vosk decides a word only ~0.3 s of audio after it: 200 ms into the pause after "네" the
    # partial result is still empty, unless the pause is fed once more (``in_pause``).
    import numpy as np
    settings, model = ko_model
    pcm, _ = read_wav(espeak("네", "ko", tmp_path / "t.wav"), 16000)
    loud = np.nonzero(np.abs(np.frombuffer(pcm, "<i2")) > 300)[0]
    said = silence(0.3, 16000) + pcm[: 2 * (int(loud[-1]) + 1)] + silence(0.2, 16000)
    heard = {}
    for in_pause in (False, True):
        rec = asr.Recognizer.from_settings(model, settings, 16000, "ko", FakeNLU())
        rec.expect("confirm")
        rec.start()
        for pos in range(0, len(said), 640):                 # 20 ms chunks, as a line sends
            rec.feed(said[pos: pos + 640])
        heard[in_pause] = rec.partial(in_pause=in_pause)
        assert rec.partial(in_pause=in_pause) == heard[in_pause]   # fed again once per pause
        assert rec.finish().text == "네"
    assert heard == {False: "", True: "네"}
