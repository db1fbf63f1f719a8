"""Small argument checks shared by the facade's modules."""
from __future__ import annotations

import operator
from typing import Any

# The C types the compiled core takes, and their ranges on x86_64.
_RANGES = {
    "int": (-(1 << 31), (1 << 31) - 1),
    "unsigned int": (0, (1 << 32) - 1),
    "long": (-(1 << 63), (1 << 63) - 1),
    "unsigned long": (0, (1 << 64) - 1),
}


def check_int(v: Any, name: str, ctype: str = "int") -> int:
    """v as an int (anything with __index__) that fits the C type the core takes: a TypeError
    naming the argument for a non-integer, an OverflowError (as Python's os functions raise) for
    a value no C caller could pass."""
    try:
        n = operator.index(v)
    except TypeError:
        raise TypeError(f"{name} must be an int, not {type(v).__name__}") from None
    lo, hi = _RANGES[ctype]
    if not lo <= n <= hi:
        raise OverflowError(f"{name} = {n} does not fit a C {ctype}")
    return n


def check_ns(v: Any, name: str) -> int:
    """A time in virtual nanoseconds: a C long long, not negative."""
    n = check_int(v, name, "long")
    if n < 0:
        raise ValueError(f"{name} must be >= 0 ns")
    return n
