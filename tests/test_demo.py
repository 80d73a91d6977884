"""`dynamap demo --quick` end to end through the CLI (about 30 s on 2 cores)."""

import base64
import json
import re

from dynamap.cli.main import main

#: figures of the report: single (sweeps, portraits, time series) and tagged (sweeps); their delay maps
#: have no training curves or latent evidence, a paragraph says what each is
N_FIGURES = 4


def _lcs(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
    return table[-1][-1]


def test_demo_quick_writes_report_and_metrics(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--quiet", "--out", str(out)]) == 0
    html = (out / "report.html").read_text()
    imgs = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(imgs) == N_FIGURES == html.count("<img")
    assert "The tagged map is a ridge map on the newest 16 samples" in html
    assert "The single-series map is a ridge map on the newest 16 samples" in html
    for data in imgs:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    m = json.loads((out / "metrics.json").read_text())
    assert {"settings", "fit_config", "seed", "single", "tagged", "fixed_points", "timings_s"} <= set(m)
    rs = m["single"]["regime_sequence"]
    # the true sweep is the HH reference: period-adding bursting (spikes per burst growing with V_S),
    # tonic spiking at the top of the range
    tseq, mseq = rs["true_sequence"], rs["model_sequence"]
    assert tseq[-1] == "tonic"
    spb = [int(lab.split()[1]) for lab in tseq if lab.startswith("bursting ") and "," not in lab]
    assert len(spb) >= 2 and spb == sorted(set(spb))
    # the score is the longest common subsequence over the true length, in either direction of c
    assert rs["score"] == max(_lcs(tseq, mseq), _lcs(tseq, mseq[::-1])) / len(tseq)
    assert {"heldout_accuracy", "transition", "lyapunov_sign_agreement"} <= set(m["tagged"]["scores"])
    assert len(m["tagged"]["heldout_values"]) >= 8
    # the nearest-tag lookup beside the accuracy: its share is that of its per-point matches, and its
    # tag is the nearest training value (a tie to the lower tag)
    ev = m["tagged"]["scores"]
    pts, tags = ev["points"], m["tagged"]["training_values"]
    assert ev["nearest_tag_baseline"] == sum(p["lookup_match"] for p in pts) / len(pts)
    for p in pts:
        assert p["lookup_tag"] == min(tags, key=lambda t: (abs(t - p["value"]), t))
    assert not set(m["tagged"]["heldout_values"]) & set(m["tagged"]["training_values"])
    sp = m["tagged"]["spectra_at_tags"]  # the map's spectrum beside the system's at each tag
    assert [p["value"] for p in sp["points"]] == tags
    for p in sp["points"]:
        assert len(p["true"]) == 3 and len(p["model"]) == m["tagged"]["latent_dim"]
        assert p["true"] == sorted(p["true"], reverse=True) and p["model"] == sorted(p["model"], reverse=True)
    assert {"single", "tagged"} == set(m["fixed_points"])
    assert (out / "model_single" / "config.json").exists() and (out / "model_tagged" / "config.json").exists()
    assert m["timings_s"]["total"] > 0
    from dynamap.pipeline.demo import STAGE_SECONDS

    assert set(m["timings_s"]) == set(STAGE_SECONDS) | {"total"}  # every stage timed, none unweighted
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".dynamap-")]  # nothing staged left


def test_the_demo_bar_advances_by_each_stage_s_share_of_the_work():
    """The progress bar's position (``done``) after each stage is the sum of the stages' weights so far, so its
    estimate of the time left (tqdm: the work left over the rate so far) is in proportion to the work."""
    from dynamap.pipeline.demo import _Stages

    st = _Stages(["a", "b", "c"], progress=False, seconds={"a": 10.0, "b": 30.0, "c": 60.0})
    assert st.bar.total == 100.0
    got = []
    for name in ("a", "b", "c"):
        assert st.run(name, lambda: name) == name
        got.append(st.done)
    st.close()
    assert got == [10.0, 40.0, 100.0] and set(st.times) == {"a", "b", "c"}
