"""A wall-time budget for runs on machines with time limits (Colab, Kaggle, preemptible VMs).

`--max_train_minutes N` must end the run *with* a checkpoint before N minutes: before each step
the trainer asks whether one more step plus a checkpoint and the final save still fit. Step and
save durations are measured as the run goes; before the first save is measured a conservative
guess is used. The clock is a module attribute so tests can drive it.

An interrupt (Ctrl-C, or the SIGTERM a scheduler or `kill` sends) ends the run the same way: the
step in progress finishes, a checkpoint is written, and the run exits; a second interrupt stops at
once, as usual.
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field

clock = time.monotonic
FIRST_SAVE_GUESS_S = 10.0  # before any checkpoint has been timed; a 64 px run saves in ~1 s
SAFETY = (
    1.25  # margin on the measured durations (a step can be slower than the slowest seen so far)
)


@dataclass
class TimeBudget:
    """Seconds left for training, from `start` (default: now).

    Args:
        limit_s: the budget in seconds (None: no limit).
        start: clock value when the run started (process start, so set-up counts too).
    """

    limit_s: float | None
    start: float = field(default_factory=lambda: clock())
    step_s: float = 0.0
    save_s: float = FIRST_SAVE_GUESS_S
    interrupted: str | None = None  # the signal's name once one arrived
    _mark: float | None = None
    _previous: dict = field(default_factory=dict)

    def stop_on_signals(self) -> None:
        """Catch SIGINT and SIGTERM: the first sets `interrupted` (the trainer saves and stops at
        the next step boundary) and puts the previous handlers back (a second one stops at once).
        Only the main thread can install handlers; elsewhere this does nothing."""
        if threading.current_thread() is not threading.main_thread():
            return
        self._previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

        def handler(signum: int, frame: object) -> None:
            self.interrupted = signal.Signals(signum).name
            self.restore_signals()

        for sig in self._previous:
            signal.signal(sig, handler)

    def restore_signals(self) -> None:
        """Put back the handlers `stop_on_signals` replaced (at the end of a run)."""
        for sig, old in self._previous.items():
            signal.signal(sig, old)
        self._previous = {}

    def step_started(self) -> None:
        now = clock()
        if self._mark is not None:
            self.step_s = max(self.step_s, now - self._mark)
        self._mark = now

    def saved(self, seconds: float) -> None:
        """Record how long a checkpoint took (the save estimate becomes the slowest seen)."""
        self.save_s = seconds if self.save_s == FIRST_SAVE_GUESS_S else max(self.save_s, seconds)
        self._mark = clock()  # the save is not part of the next step's duration

    def exhausted(self) -> bool:
        """True when interrupted, or when one more step, a checkpoint and the final save would not
        fit in the budget."""
        if self.interrupted:
            return True
        if self.limit_s is None:
            return False
        needed = SAFETY * (self.step_s + 2 * self.save_s)
        return clock() - self.start + needed > self.limit_s
