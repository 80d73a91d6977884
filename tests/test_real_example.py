"""A real recording end to end (slow): ``examples/real_pacemaker.sh`` on the pacemaker of shared/real,
the way a user runs it, and the map's action potentials against the recording's.

Measured (docs/experiments.md, "Measurement noise ..."; ``python benchmarks/real_protocol.py pacemaker``,
seed 0): the recording fires at 1.72 /s (ISI CV 0.148, AP peaks 46.2 mV and troughs -65.7 mV at the
1.5 ms map step); the map at 1.82 /s (CV 0.001), peaks 52.8 mV, troughs -65.2 mV. Seeds 1 and 2 do not
hold (issue 31's targets are met by one seed of three)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dynamap
from dynamap.analysis.spikes import spike_times

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT.parent / "shared" / "real" / "sanpy_19114001.csv"


@pytest.mark.slow
@pytest.mark.skipif(not CSV.is_file(), reason="needs shared/real beside the checkout")
def test_the_pacemaker_example_fits_and_reports(tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(["sh", str(ROOT / "examples" / "real_pacemaker.sh"), str(CSV), "0"], cwd=tmp_path, check=True,
                   capture_output=True, text=True, env=env)
    out = tmp_path / "pacemaker-model"
    html = (out / "report.html").read_text()
    assert "Firing rate against the control" in html and "vae encoder" in html
    m = dynamap.load_model(out)
    s = dynamap.read_series(CSV)
    x = m.resample(s)
    sim = m.simulate_batch(np.array([m.param_values_[0]]), x.size, x.size // 5)[0]

    def stats(v):
        t = spike_times(v, -20.0, m.dt_, hysteresis=20.0)
        k = np.round(t / m.dt_).astype(int)
        return (1 / np.diff(t).mean(), np.mean([v[a:b].max() for a, b in zip(k[:-1], k[1:])]),
                np.mean([v[a:b].min() for a, b in zip(k[:-1], k[1:])]))

    (rate, peak, trough), (rate_m, peak_m, trough_m) = stats(x), stats(sim)
    assert rate == pytest.approx(1.72, rel=0.01)
    assert abs(rate_m / rate - 1) <= 0.15 and abs(peak_m - peak) <= 10 and abs(trough_m - trough) <= 5
