"""Shared helpers for the fault, fuzz, leak and concurrency tests (no tests here).

Long tests are marked ``slow``; the default run does a reduced form of them, and
``VOICE_AGENT_SOAK=1`` runs them at full length (``-m "not slow"`` skips them).
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOAK = os.environ.get("VOICE_AGENT_SOAK") == "1"


def scaled(reduced: int, full: int) -> int:
    return full if SOAK else reduced


def load_script(name: str):
    """A module from scripts/ (the soak and bench harnesses are shared with the tests)."""
    path = ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"scripts_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def voice_agent(*args: str, cwd: Path | None = None, env: dict | None = None,
                stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real CLI in a child process (as a user would), capturing everything it prints."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "voice_agent", *args], input=stdin,
                          capture_output=True, text=True, cwd=str(cwd or ROOT), env=full_env,
                          timeout=timeout)


def no_traceback(proc: subprocess.CompletedProcess) -> str:
    """The message a failed command printed; fails when it printed a Python traceback."""
    text = proc.stderr + proc.stdout
    assert "Traceback (most recent call last)" not in text, text[-3000:]
    return text
