"""The per-number rate limit: at most N messages to one phone within a window."""

from datetime import datetime, timedelta


def wait_before_send(
    recent_sends: list[datetime], now: datetime, limit: int, window: timedelta
) -> timedelta:
    """Return how long to wait before one more message may go to the number.

    ``recent_sends`` are the times of the sends to that number within the window.
    """
    in_window = sorted(sent for sent in recent_sends if now - sent < window)
    if len(in_window) < limit:
        return timedelta(0)
    # The send that must leave the window first is the limit-th newest.
    return in_window[len(in_window) - limit] + window - now
