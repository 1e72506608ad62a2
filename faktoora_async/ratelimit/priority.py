"""Request priority: status polls give way to requests that move work forward.

A status poll only tells whether a download can start; when the rate budget is the bottleneck, a poll
sent while a download (or a create) waits for a slot delays that download and finds yet another invoice
to download later.  Code that polls marks its requests as *background* (``with background(): ...``):
the governor hands a background request a slot only when no foreground request is waiting for one.  It
is carried by a :class:`contextvars.ContextVar`, so it reaches the governor through every layer between
(resource, requester, transport) without a parameter on each.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["background", "is_background"]

_BACKGROUND: contextvars.ContextVar[bool] = contextvars.ContextVar("faktoora_background", default=False)


@contextmanager
def background() -> Iterator[None]:
    """Requests made inside yield the rate budget to foreground requests waiting for it."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


def is_background() -> bool:
    """True inside :func:`background`."""
    return _BACKGROUND.get()
