"""Writing result files so that a reader never sees half of one: a temp name, then an atomic rename."""

from __future__ import annotations

import json
import os
from typing import Any


def write_json(value: Any, path: str, indent: int | None = None, sort_keys: bool = False) -> str:
    """Writes any JSON value to `path` (parent folders created) via a temp name; returns `path`."""
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(value, f, indent=indent, sort_keys=sort_keys)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
