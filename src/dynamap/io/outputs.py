"""Atomic outputs: nothing half-written is left behind when a command fails or is killed.

Every output (a folder: :func:`staged_dir`; a file: :func:`staged_file`, :func:`write_json`) is written
to a temporary sibling named ``.dynamap-<pid>-...`` and renamed into place when complete; a later run
that writes in the same folder removes the siblings that killed runs left (and puts back an output
that a run killed between its two renames had set aside).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .._core.errors import InputError

__all__ = ["staged_dir", "staged_file", "replace_dir", "temp_sibling_dir", "write_json", "check_out_dir",
           "to_jsonable"]


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
        os.rmdir(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-probe-", dir=anchor))
    except OSError as exc:
        raise InputError(f"--out {path}: cannot write in {anchor} ({exc.strerror}); choose another path") from None
    return path


#: temporary siblings of an output are named PREFIX + pid + "-": a later run removes those whose
#: process is gone (a run killed before it could clean up)
TMP_PREFIX = ".dynamap-"
#: an output renamed aside while its replacement is renamed in: PREFIX + pid + OLD + random / name
_OLD = "-old-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, not ours
        return True
    return True


def _remove_stale(parent: Path) -> None:
    """Remove temporary siblings left in ``parent`` by runs that were killed.

    A run killed between the two renames of :func:`replace_dir` left its previous output aside: it
    is put back when nothing has taken its place since.
    """
    for item in parent.glob(TMP_PREFIX + "*-*"):
        pid = item.name[len(TMP_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        if item.is_dir() and not item.is_symlink():
            if item.name[len(TMP_PREFIX) + len(pid):].startswith(_OLD):
                for kept in item.iterdir():
                    if not (parent / kept.name).exists() and not (parent / kept.name).is_symlink():
                        with contextlib.suppress(OSError):  # another run put it back first
                            os.replace(kept, parent / kept.name)
            shutil.rmtree(item, ignore_errors=True)
        else:
            item.unlink(missing_ok=True)


def temp_sibling_dir(path: str | Path) -> Path:
    """A new temporary folder beside ``path`` (named for this process; stale ones are removed first)."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    _remove_stale(parent)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", dir=parent))
    except OSError as exc:
        raise InputError(f"--out {path}: cannot write there ({exc.strerror}); choose another path") from None
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp's 0700 would hide the output from the user's group
    return tmp


@functools.cache
def _umask() -> int:
    """The process's umask (read once: reading it means setting it, for an instant)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def replace_dir(tmp: str | Path, path: str | Path) -> None:
    """Move the complete folder ``tmp`` to ``path``, replacing what is there whole.

    Killed at any moment, it leaves at ``path`` the previous folder or the new one; between its two
    renames, for an instant, nothing, with the previous folder kept aside, which the next run that
    writes beside it puts back (see :func:`_remove_stale`).
    """
    tmp, path = Path(tmp), Path(path)
    if not path.exists() and not path.is_symlink():
        os.replace(tmp, path)
        return
    parent = path.parent if str(path.parent) else Path(".")
    old = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}{_OLD}", dir=parent))
    os.replace(path, old / path.name)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)


def _link_tree(src: Path, dest: Path) -> None:
    """Hard links of ``src``'s files at ``dest`` (copies where links are impossible)."""
    if src.is_dir() and not src.is_symlink():
        shutil.copytree(src, dest, symlinks=True, copy_function=_link_or_copy)
    else:
        _link_or_copy(src, dest)


def _link_or_copy(src, dest) -> None:
    if os.path.islink(src):
        os.symlink(os.readlink(src), dest)
        return
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


@contextlib.contextmanager
def staged_dir(path: str | Path):
    """Yield a temporary folder; on success it replaces ``path`` whole, on error it is removed.

    Killed at any moment, it leaves under ``path`` either the previous complete output or the new
    one (or nothing, for an instant between two renames, the previous output kept aside and put back
    by the next run): files of the user's in ``path`` that the new output does not write are kept
    (hard-linked into the new folder before it replaces the old one).
    """
    path = check_out_dir(path)
    tmp = temp_sibling_dir(path)
    try:
        yield tmp
        if path.exists():
            new = {p.name for p in tmp.iterdir()}
            extra = [item for item in path.iterdir() if item.name not in new]
            if extra and _holds_cwd(path):  # not renamed away under the process: merged file by file
                for item in tmp.iterdir():
                    dest = path / item.name
                    if dest.is_dir() and not dest.is_symlink():
                        shutil.rmtree(dest)
                    os.replace(item, dest)
                tmp.rmdir()
                return
            for item in extra:
                _link_tree(item, tmp / item.name)
        replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _holds_cwd(path: Path) -> bool:
    here, there = Path.cwd().resolve(), path.resolve()
    return here == there or there in here.parents


@contextlib.contextmanager
def staged_file(path: str | Path):
    """Yield a temporary sibling file name (same suffix) to write; on success it replaces ``path``
    (one rename), on error it is removed. Stale temporary siblings of killed runs are removed first."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    _remove_stale(parent)
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", suffix=path.suffix, dir=parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # as an ordinary new file (mkstemp's are 0600)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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
    text = json.dumps(to_jsonable(obj), indent=1, allow_nan=False) + "\n"  # fails before any file
    with staged_file(path) as tmp:
        tmp.write_text(text)
    return path
