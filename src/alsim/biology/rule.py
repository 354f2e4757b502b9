"""How a rule of docs/model.md becomes code: a small pure function, compiled into the kernel.

A rule is written once, with NumPy operations on floats, and decorated with :func:`rule`.
The compiled kernel (:mod:`alsim.engine.fast`) calls it from its ``@njit`` loops, where
Numba compiles it in; Python code (docs, tests) calls ``the_rule.py_func(...)``, which
works on NumPy arrays as well as floats. The kernel says *how* (loops, caches, tables),
this package says *what*.
"""

from __future__ import annotations

from numba import njit


def rule(function):
    """Compile ``function`` for the kernel (cached, NumPy error model: no zero-divisor checks,
    as every kernel of :mod:`alsim.engine.fast`); the plain function stays as ``.py_func``."""
    return njit(cache=True, error_model="numpy")(function)
