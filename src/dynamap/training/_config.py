"""Base for frozen, self-validating configuration dataclasses that round-trip to JSON."""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from typing import Any

from .._core.errors import ConfigError

__all__ = ["ConfigBase", "check_positive", "check_int_range", "check_choice", "check_range"]


def check_positive(name: str, value: Any, *, allow_zero: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value >= 0 if allow_zero else value > 0)
    if not ok:
        rel = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be a finite number {rel}, got {value!r}")


def check_range(name: str, value: Any, lo: float, hi: float) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and lo <= value <= hi
    if not ok:
        raise ConfigError(f"{name} must be a number in [{lo}, {hi}], got {value!r}")


def check_int_range(name: str, value: Any, lo: int, hi: int | None = None) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= lo
    ok = ok and (hi is None or value <= hi)
    if not ok:
        bound = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ConfigError(f"{name} must be an integer {bound}, got {value!r}")


def check_choice(name: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {list(choices)}, got {value!r}")


class ConfigBase:
    """Mixin for frozen dataclasses: ``to_dict``/``from_dict``/``to_json``/``from_json``.

    Subclasses validate in ``__post_init__`` and name the bad field (``ConfigError``).
    Nested configs and tuples are restored from their JSON form (settings of earlier versions:
    :mod:`dynamap.pipeline._compat`).
    """

    def to_dict(self) -> dict:
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, ConfigBase):
                v = v.to_dict()
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict):
        if not isinstance(data, dict):
            raise ConfigError(f"{cls.__name__} expects a JSON object, got {type(data).__name__}")
        hints = typing.get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}
        data = dict(data)
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"{cls.__name__}: unknown field(s) {unknown}; valid fields are {sorted(names)}")
        kwargs = {}
        for k, v in data.items():
            hint = hints[k]
            if isinstance(hint, type) and issubclass(hint, ConfigBase):
                v = hint.from_dict(v)
            elif isinstance(v, list):
                v = tuple(v)
            kwargs[k] = v
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str):
        return cls.from_dict(json.loads(text))
