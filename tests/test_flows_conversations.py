"""Issue 5 conversations as data: tests/conversations/cases/<lang>/*.toml, through the real NLU and
store, with the runner (and the file format) of test_dialogue_conversations (conversation.py).

On top of that format, a call may state what the store must hold afterwards for its `account`:
`disputes` (open disputes), `arrangement` (installments of the active arrangement),
`arrangement_paid` (of them, already posted), `scheduled` (scheduled payments, arrangement
installments included), `callbacks` (callback requests of this call), `tickets` (restoration
tickets of the account). Every scenario exists in every language.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conversation import CONVERSATIONS, conversation_files, file_id, run_file

HERE = CONVERSATIONS / "cases"
FILES = conversation_files(HERE)
LANGS = ("en", "es", "ko")


@pytest.mark.parametrize("path", FILES, ids=[file_id(p) for p in FILES])
def test_case_conversation(path: Path, tmp_path, nlu):
    run_file(path, tmp_path, nlu)


def test_every_language_has_every_case():
    names = {lang: {p.stem for p in (HERE / lang).glob("*.toml")} for lang in LANGS}
    required = {"dispute", "dispute_again", "arrangement", "arrangement_refused",
                "schedule_and_cancel", "restore", "callback", "transfer", "options_fees",
                "security"}
    for lang in LANGS:
        assert required <= names[lang], f"{lang}: missing {sorted(required - names[lang])}"
