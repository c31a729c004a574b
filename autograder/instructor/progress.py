"""A one-line progress bar with an ETA, on stderr."""

import sys
import time


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """`done(label)` after each item. On a terminal the line redraws in
    place; in a log (CI, a pipe) a line is printed every 10 % instead."""

    def __init__(self, total, what="notebooks", stream=None, width=28):
        self.total, self.what, self.width = total, what, width
        self.stream = stream or sys.stderr
        self.count = 0
        self.start = time.perf_counter()
        self.live = self.stream.isatty()
        self._last_decile = -1

    def line(self):
        elapsed = time.perf_counter() - self.start
        filled = self.width * self.count // max(self.total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        eta = elapsed / self.count * (self.total - self.count) if self.count else None
        eta_text = _clock(eta) if eta is not None else "?"
        return (
            f"[{bar}] {self.count}/{self.total} {self.what}  "
            f"elapsed {_clock(elapsed)}  ETA {eta_text}"
        )

    def done(self, label=""):
        self.count += 1
        if self.live:
            self.stream.write("\r" + self.line() + (f"  {label}"[:40]).ljust(40))
            if self.count == self.total:
                self.stream.write("\n")
        else:
            decile = 10 * self.count // max(self.total, 1)
            if decile != self._last_decile or self.count == self.total:
                self._last_decile = decile
                self.stream.write(self.line() + "\n")
        self.stream.flush()
