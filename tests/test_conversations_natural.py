"""Natural callers (issue 12): whole calls with corrections, going back, questions mid-step and
everything said at once, in every language, each checked by the end state it leaves in the store
(tests/conversations/natural/<lang>/*.toml, format in conversation.py). The held-out calls in
tests/conversations/holdout/ and holdout2/ are never tuned on: scripts/conversation_holdout.py
reports their pass rate instead of asserting it."""
from __future__ import annotations

from pathlib import Path

import pytest

from conversation import CONVERSATIONS, conversation_files, file_id, run_file

HERE = CONVERSATIONS / "natural"
FILES = conversation_files(HERE)


@pytest.mark.parametrize("path", FILES, ids=[file_id(p) for p in FILES])
def test_natural_conversation(path: Path, tmp_path, nlu):
    run_file(path, tmp_path, nlu)
