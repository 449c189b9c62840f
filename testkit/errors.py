"""The one error the test kit raises."""

from __future__ import annotations


class KitError(RuntimeError):
    """The stack is not as a run needs it: a process died or did not end, a topic is missing."""
