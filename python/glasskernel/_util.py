"""Small argument checks shared by the facade's modules."""
from __future__ import annotations

import operator
from typing import Any


def check_int(v: Any, name: str) -> int:
    """v as an int (anything with __index__), or a TypeError naming the argument."""
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{name} must be an int, not {type(v).__name__}") from None
