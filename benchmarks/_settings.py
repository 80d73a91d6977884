"""``--fit KEY=VALUE`` for the protocol scripts: a FitConfig setting by its dotted name (``encoder``,
``ridge.noise``, ``mlp.hidden``, ``selection.c_shifts``, ...), VALUE in JSON."""

from __future__ import annotations

import json

import dynamap


def kv(text: str) -> tuple[str, object]:
    """``KEY=JSON`` -> (KEY, value), lists as tuples."""
    k, _, v = text.partition("=")
    v = json.loads(v)
    return k, tuple(v) if isinstance(v, list) else v


def configured(base: dynamap.FitConfig, pairs) -> dynamap.FitConfig:
    """``base`` with each (dotted key, value) of ``pairs`` set, validated as a saved config is."""
    data = base.to_dict()
    for key, value in pairs:
        *path, last = key.split(".")
        node = data
        for part in path:
            node = node[part]
        node[last] = list(value) if isinstance(value, tuple) else value
    return dynamap.FitConfig.from_dict(data)
