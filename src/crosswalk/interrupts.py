"""Stopping on Ctrl-C or SIGTERM: one flag the CLI sets and worker threads check.

asyncio cancels the event loop's tasks; threads cannot be cancelled, so the long ones
(reading a PDF page by page, embedding batch by batch) call `stop_requested.check()` at
each step and end with `Interrupted`. What they finished is already in the store.
"""

from __future__ import annotations

import threading

from .errors import Interrupted


class StopFlag:
    """A process-wide stop request (set from a signal handler, read from any thread)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name = "SIGINT"

    def request(self, signal_name: str = "SIGINT") -> None:
        self.signal_name = signal_name
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def is_set(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Interrupted(self.signal_name)


stop_requested = StopFlag()
