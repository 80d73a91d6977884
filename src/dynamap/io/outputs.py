"""Atomic outputs: nothing half-written is left behind when a command fails."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .._core.errors import InputError

__all__ = ["staged_dir", "write_json", "check_out_dir", "to_jsonable"]


def check_out_dir(path: str | Path) -> Path:
    """Validate an output folder before any work: it must be creatable or an existing folder."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"--out {path}: exists and is not a folder; choose a folder path")
    parent = path.parent if str(path.parent) else Path(".")
    anchor = path if path.exists() else parent
    if not anchor.exists():
        raise InputError(f"--out {path}: folder {parent} does not exist; create it first")
    if not anchor.is_dir() or not os.access(anchor, os.W_OK | os.X_OK):
        raise InputError(f"--out {path}: {anchor} is not a writable folder; choose another path")
    try:  # root passes os.access everywhere; a probe folder is the real test
        os.rmdir(tempfile.mkdtemp(prefix=".probe-", dir=anchor))
    except OSError as exc:
        raise InputError(f"--out {path}: cannot write in {anchor} ({exc.strerror}); choose another path") from None
    return path


@contextlib.contextmanager
def staged_dir(path: str | Path):
    """Yield a temporary folder; on success its files move into ``path``, on error it is removed."""
    path = check_out_dir(path)
    parent = path if path.exists() else (path.parent if str(path.parent) else Path("."))
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".dynamap-", dir=parent))
    except OSError as exc:
        raise InputError(f"--out {path}: cannot write there ({exc.strerror}); choose another path") from None
    try:
        yield tmp
        if path.exists():
            for item in tmp.iterdir():
                dest = path / item.name
                if dest.is_dir() and not dest.is_symlink():
                    shutil.rmtree(dest)
                os.replace(item, dest)
            tmp.rmdir()
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def to_jsonable(obj):
    """Convert numpy scalars/arrays (recursively) to plain Python for JSON."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if np.isfinite(v) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def write_json(obj, path: str | Path) -> Path:
    path = Path(path)
    with open(path, "w") as fh:
        json.dump(to_jsonable(obj), fh, indent=1, allow_nan=False)
        fh.write("\n")
    return path
