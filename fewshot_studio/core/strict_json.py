"""JSON the studio prints or writes is strict JSON: NaN and infinities (which ``json.dumps`` writes as the
non-standard ``NaN``/``Infinity`` that other readers reject) become ``null``."""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """``value`` with every non-finite float (in dicts, lists and tuples, at any depth) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value: Any, **options) -> str:
    """``json.dumps`` of :func:`finite` ``(value)``, with ``allow_nan=False`` so nothing non-standard slips by."""
    return json.dumps(finite(value), allow_nan=False, **options)
