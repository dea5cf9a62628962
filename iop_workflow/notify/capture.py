"""What apprise logged while this thread sent one message: the reason a target failed.

apprise 1.x reports a failure as `False` and tells why only in its log, the server's
answer (e.g. `(535, b'5.7.8 Authentication credentials invalid')`) even at DEBUG. So the
apprise logger is opened to DEBUG while sending, records are kept per thread (two
deliveries in one process must not swap their reasons), and only what the host would
have seen anyway is passed on to its handlers: the debug lines do not flood its logs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

LOGGER = "apprise"
_lock = threading.Lock()
_open = 0  # captures in progress, in any thread
_level = logging.NOTSET  # the logger's own level before the first capture opened it
_forward = logging.WARNING  # records below the level the host had are not passed on


class _Keep(logging.Handler):
    def __init__(self, thread: int, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.thread, self.records = thread, records

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        self.records.append(record)
        parent = logging.getLogger(LOGGER).parent
        if record.levelno >= _forward and parent is not None:
            parent.callHandlers(record)  # what propagation would have done


@contextmanager
def captured() -> Iterator[list[logging.LogRecord]]:
    """The apprise records of this thread during the block (already redacted by the
    logger's filter, see redact.redacted_logger)."""
    global _open, _level, _forward
    logger = logging.getLogger(LOGGER)
    records: list[logging.LogRecord] = []
    keep = _Keep(threading.get_ident(), records)
    with _lock:
        if _open == 0:
            _level, _forward = logger.level, logger.getEffectiveLevel()
            logger.setLevel(logging.DEBUG)
            logger.propagate = False  # _Keep passes on what the host wants
        _open += 1
        logger.addHandler(keep)
    try:
        yield records
    finally:
        with _lock:
            logger.removeHandler(keep)
            _open -= 1
            if _open == 0:
                logger.setLevel(_level)
                logger.propagate = True


def reasons(records: list[logging.LogRecord]) -> str:
    """The warnings, plus the debug lines that carry the server's answer."""
    lines = [
        record.getMessage()
        for record in records
        if record.levelno >= logging.WARNING
        or (record.levelno == logging.DEBUG and "Exception" in record.getMessage())
    ]
    return "; ".join(dict.fromkeys(lines))
