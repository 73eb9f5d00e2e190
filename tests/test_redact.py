"""voice_agent.redact owns the masking policy: 4+ digits masked, only 12+ keep their last four,
in numerals and in number words alike; logs keep no digit; the store does not pull the NLU in."""
from __future__ import annotations

import subprocess
import sys

import pytest

from voice_agent.redact import (digit_words, mask_caller_digits, mask_digit_runs, mask_digit_words,
                                mask_digits, masked, redact_entry)


@pytest.mark.parametrize("digits, shown", [
    ("7395", "****"), ("20030040", "********"), ("80355501000", "***********"),
    ("411111111111", "********1111"), ("4111111111111111", "************1111"),
])
def test_only_twelve_or_more_digits_keep_their_last_four(digits, shown):
    assert masked(digits) == shown
    assert mask_digit_runs(digits) == shown
    assert mask_caller_digits(f"it is {digits}", "en") == f"it is {shown}"


def test_digit_words_under_twelve_are_masked_whole():
    words = digit_words(("en",))
    assert mask_digit_words("acct one two three four five six", words) == "acct * * * * * *"


def test_logs_keep_no_digit_even_of_a_card():
    assert mask_digits("4111 1111 1111 1111") == "**** **** **** ****"


@pytest.mark.parametrize("text, expecting, shown", [
    ("7395", "pin", "[redacted]"), ("1234", "ssn_last4", "[redacted]"),
    ("4111111111111111", "card_number", "************1111"),
    ("20030040", "bank_account_number", "[redacted]"),     # under 12 digits: nothing kept
    ("200300400", "account_number", "200300400"),          # not a secret
    (None, "pin", None),
])
def test_redact_entry(text, expecting, shown):
    assert redact_entry(text, expecting) == shown


def test_store_does_not_import_the_nlu():
    code = "import sys, voice_agent.store; print('voice_agent.nlu' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
