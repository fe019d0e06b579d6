"""Writing result files and folders so that a reader never sees half of one: a temp name, then a rename."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
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


def write_bytes(path: str, data: bytes) -> str:
    """Writes `data` to `path` (parent folders created) via a temp name; returns `path`."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


@contextlib.contextmanager
def atomic_directory(out: str, marker: str) -> Iterator[str]:
    """Yields a temp folder beside `out`; on success writes `out/.complete` (holding `marker`) and renames the
    folder over `out`, on any error (Ctrl-C included) removes it, so `out` is whole or untouched."""
    tmp = f"{out.rstrip('/')}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        yield tmp
        with open(os.path.join(tmp, ".complete"), "w", encoding="utf-8") as f:
            f.write(marker.rstrip("\n") + "\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    os.rename(tmp, out)
