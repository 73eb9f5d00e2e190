"""A one-line progress bar for long staff commands (`db import`), on a terminal only.

Our own twenty lines rather than a dependency such as tqdm: one bar, redrawn in place on stderr,
shown only when stderr is a terminal and only once the work has run ``after`` seconds (a short
import prints nothing extra; a script or a log file never gets carriage returns).
"""
from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class ProgressBar:
    def __init__(self, label: str, *, stream: TextIO | None = None, after: float = 2.0):
        self.label = label
        self.stream = stream or sys.stderr
        self.after = after
        self.started = time.monotonic()
        self.shown = False
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int) -> None:
        if not self.live or total <= 0:
            return
        elapsed = time.monotonic() - self.started
        if not self.shown and (elapsed < self.after or done >= total):
            return
        filled = WIDTH * done // total
        rate = done / elapsed if elapsed else 0.0
        left = f", {(total - done) / rate:.0f} s left" if rate and done < total else ""
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}]"
                          f" {done}/{total}{left}   ")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
