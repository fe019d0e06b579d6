"""Channel rounding shared by the mobile networks (MobileNetV2, MobileNeXt, ...)."""

from __future__ import annotations


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Rounds `value` to the nearest multiple of `divisor`, never below `min_value` (default divisor)
    and never more than 10% below `value` (the rule of the TF-slim MobileNet code and its ports)."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return int(rounded)
