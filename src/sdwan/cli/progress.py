"""Progress of long work on stderr: a bar redrawn in place on a terminal, plain lines
elsewhere (a log, CI), nothing at all when the output is for machines (``-o json``).

    with Progress("lab up", total=12, quiet=False) as progress:
        progress.advance("namespace r1")

stdout is left alone: what a command prints as its result never mixes with this."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from sdwan import figures

WIDTH = 24  # the bar's cells
REDRAW = 0.1  # seconds between two redraws of a bar
EVERY_STEP = 20  # up to this many steps, a plain line each; beyond, one per tenth


class Progress:
    def __init__(
        self,
        label: str,
        total: int,
        *,
        quiet: bool = False,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = max(total, 0)
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self._quiet = quiet
        self._terminal = self._stream.isatty()
        self._clock = clock
        self._started = clock()
        self._drawn_at = -REDRAW
        self._tenth = -1
        self._open = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def advance(self, note: str = "", steps: int = 1) -> None:
        self.update(self.done + steps, note)

    def update(self, done: int, note: str = "") -> None:
        self.done = min(max(done, 0), self.total) if self.total else max(done, 0)
        if self._quiet:
            return
        if self._terminal:
            now = self._clock()
            if now - self._drawn_at >= REDRAW or self.done == self.total:
                self._drawn_at = now
                self._write("\r" + self.line(note) + "\x1b[K")
                self._open = True
            return
        if self.total <= EVERY_STEP or self.done == self.total:
            self._write(self.line(note) + "\n")
            return
        tenth = self.done * 10 // self.total
        if tenth != self._tenth:
            self._tenth = tenth
            self._write(self.line(note) + "\n")

    def line(self, note: str = "") -> str:
        """``label [#####.......] 5/12 42 % 1.20 s note`` (the bar on a terminal only)."""
        elapsed = figures.seconds(self._clock() - self._started)
        share = figures.percent(self.done, self.total) if self.total else ""
        bar = ""
        if self._terminal and self.total:
            filled = WIDTH * self.done // self.total
            bar = " [" + "#" * filled + "." * (WIDTH - filled) + "]"
        text = f"{self.label}{bar} {self.done}/{self.total} {share} {elapsed}".replace("  ", " ")
        return f"{text} {note}" if note else text

    def close(self) -> None:
        """Ends the bar's line (a terminal's next output starts on a line of its own)."""
        if self._open:
            self._write("\n")
            self._open = False

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()
