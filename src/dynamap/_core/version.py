"""The installed package's version, from its metadata (pyproject.toml is the one place it is written)."""

from __future__ import annotations

from importlib import metadata

__all__ = ["VERSION"]

try:
    VERSION = metadata.version("dynamap")
except metadata.PackageNotFoundError:  # the source tree on sys.path without an install
    VERSION = "0+unknown"
