"""A call from recorded caller turns (one WAV per turn): replies as WAVs and a transcript.

All turn files are checked before the call starts (their headers: the data of a WAV with a
usable header always decodes), so a file that is not usable audio stops the command with a
clear message and nothing is written to the database. Each turn's audio is read a chunk at a
time, at the rate the call hears it, only when it is played: one turn in memory at a time,
without read_wav's several copies. A file with no speech (or no samples at all) is the
caller's silence, which the dialogue handles as no input.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from voice_agent.voice.audio import stream_wav, wav_format, write_wav
from voice_agent.voice.pipeline import NATIVE_RATES, RATE, Exchange, VoiceCall


@dataclass
class Turn:
    """One recorded caller turn, decoded."""

    path: Path
    pcm: bytes | None          # None: read from ``path`` when the turn is played
    rate: int

    def audio(self) -> Iterable[bytes]:
        """The turn's PCM at ``rate``, as chunks streamed from the file when not held."""
        return [self.pcm] if self.pcm is not None else stream_wav(self.path, self.rate)


def load_turns(paths: list[str | Path]) -> list[Turn]:
    """Check every turn file (raises AudioError naming the first bad one)."""
    turns = []
    for p in paths:
        rate = wav_format(p).rate
        turns.append(Turn(Path(p), None, rate if rate in NATIVE_RATES else RATE))
    return turns


def caption(ex: Exchange, show: Callable[[str], None]) -> None:
    """Both sides as text, for callers who are hard of hearing and for the demo's output."""
    heard = ex.caption_caller()
    if heard is not None:
        show(f"  caller: {heard}")
    show(f"  agent [{ex.turn.lang}]: {ex.turn.say}")


def save_reply(ex: Exchange, out_dir: Path) -> None:
    ex.reply_path = write_wav(out_dir / f"reply_{ex.index:02d}.wav", ex.reply_pcm, ex.reply_rate)


def run_recorded(call: VoiceCall, turns: list[Turn], out_dir: Path,
                 show: Callable[[str], None] = print) -> dict:
    """Play the turns into the call in order; write reply_NN.wav and transcript.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    first = call.start()
    save_reply(first, out_dir)
    caption(first, show)
    files: dict[int, str] = {}
    unused: list[str] = []
    for turn in turns:
        if call.ended:
            unused.append(str(turn.path))
            continue
        ex = call.take_recording(turn.audio(), turn.rate)
        files[ex.index] = str(turn.path)
        save_reply(ex, out_dir)
        caption(ex, show)
    if not call.ended:
        call.hang_up()
        show("  (end of recorded turns: caller hung up)")
    if unused:
        show(f"  (the call ended before {len(unused)} more turn file(s): {', '.join(unused)})")
    transcript = {
        "lang": call.turn.lang,
        "ended": call.ended,
        "outcome": (call.turn.outcome if call.turn.ended
                    else getattr(call.session, "outcome", None) or "hangup"),
        "turns": [dict(ex.to_json(), file=files.get(ex.index)) for ex in call.exchanges],
        "unused_files": unused,
    }
    path = out_dir / "transcript.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(transcript, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return transcript
