"""Explicit randomness for training: parameter initialisation from a torch.Generator."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

__all__ = ["init_module", "generators", "build"]


def build(cls, *args, gen: torch.Generator, **kwargs) -> nn.Module:
    """Construct a module without consuming the global RNG, then initialise it from ``gen``."""
    with torch.random.fork_rng(devices=[]):
        module = cls(*args, **kwargs)
    init_module(module, gen)
    return module


def init_module(module: nn.Module, gen: torch.Generator) -> None:
    """Re-initialise every Linear layer as PyTorch does by default, but from ``gen`` (no global RNG)."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.in_features)
                m.weight.uniform_(-bound, bound, generator=gen)
                if m.bias is not None:
                    m.bias.uniform_(-bound, bound, generator=gen)


def generators(seed: int, stream: int) -> tuple[torch.Generator, np.random.Generator]:
    """A torch and a numpy generator for one independent stream of a seeded run."""
    ss = np.random.SeedSequence([int(seed), int(stream)])
    torch_seed = int(ss.generate_state(1, dtype=np.uint64)[0] % (2**63 - 1))
    g = torch.Generator().manual_seed(torch_seed)
    return g, np.random.default_rng(ss)
