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


#: temporary siblings of an output are named PREFIX + pid + "-": a later run removes those whose
#: process is gone (a run killed before it could clean up)
TMP_PREFIX = ".dynamap-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, not ours
        return True
    return True


def _remove_stale(parent: Path) -> None:
    """Remove temporary siblings left in ``parent`` by runs that were killed."""
    for item in parent.glob(TMP_PREFIX + "*-*"):
        pid = item.name[len(TMP_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)


@contextlib.contextmanager
def staged_dir(path: str | Path):
    """Yield a temporary folder; on success its files move into ``path``, on error it is removed.

    Killed at any moment, it leaves under ``path`` either the previous complete output or the new
    one (or nothing, for an instant between two renames): a folder that holds only what the new
    output writes is replaced whole (renamed aside, the new one renamed in, the old removed);
    a folder with other files of the user's keeps them, and the new files replace theirs one by one.
    """
    path = check_out_dir(path)
    parent = path.parent if str(path.parent) else Path(".")
    _remove_stale(parent)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", dir=parent))
    except OSError as exc:
        raise InputError(f"--out {path}: cannot write there ({exc.strerror}); choose another path") from None
    try:
        yield tmp
        if not path.exists():
            os.replace(tmp, path)
        elif {p.name for p in path.iterdir()} <= {p.name for p in tmp.iterdir()}:
            old = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-old-", dir=parent))
            os.replace(path, old / "out")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            for item in tmp.iterdir():
                dest = path / item.name
                if dest.is_dir() and not dest.is_symlink():
                    shutil.rmtree(dest)
                os.replace(item, dest)
            tmp.rmdir()
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
    """Write ``obj`` as JSON to ``path`` atomically (a temporary sibling, renamed into place)."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", suffix=".json", dir=parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(to_jsonable(obj), fh, indent=1, allow_nan=False)
            fh.write("\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
