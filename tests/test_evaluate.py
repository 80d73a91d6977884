"""evaluate.py on hand-made sweep dicts whose answers are known by construction."""

import pytest

from dynamap import InputError
from dynamap.analysis.compare import _tonic_onset as tonic_onset
from dynamap.analysis.compare import evaluate_single, evaluate_tagged, point_label


def pt(value, regime, spb=(), le=None, isi=None):
    return {"value": value, "regime": regime, "spikes_per_burst": list(spb), "lyapunov_max": le,
            "isi": list(isi or [])}


TRUE = {"param": "V_S", "points": [
    pt(-44, "bursting", [2], 0.0, [0.1, 0.1, 3.0]), pt(-43, "bursting", [2], 0.0, [0.1, 0.1, 3.0]),
    pt(-42, "bursting", [3], 0.0, [0.1, 0.1, 0.1, 3.0]), pt(-41, "irregular", [4, 5], 0.5, [0.1, 2.0]),
    pt(-40, "tonic", [], 0.0, [0.2, 0.2]), pt(-39, "tonic", [], 0.0, [0.2, 0.2]),
]}


def test_point_label_collapses_irregular_and_keeps_spb_sets():
    assert point_label(pt(0, "bursting", [3, 3])) == ("bursting", (3,))
    assert point_label(pt(0, "irregular", [4, 5])) == "irregular"
    assert point_label(pt(0, "tonic")) == "tonic"


def test_single_perfect_reversed_and_partial():
    # c runs opposite to V_S and is listed unsorted: the score is still 1
    model = {"param": "c", "points": [
        pt(3.0, "bursting", [2]), pt(0.0, "tonic"), pt(1.0, "irregular", [4]), pt(2.0, "bursting", [3]),
        pt(2.5, "bursting", [2]), pt(4.0, "failed"),
    ]}
    r = evaluate_single(TRUE, model, training_spb=[3])
    assert r["true_sequence"] == ["bursting 2", "bursting 3", "irregular", "tonic"]
    assert r["model_sequence"] == ["tonic", "irregular", "bursting 3", "bursting 2"]
    assert r["score"] == 1.0 and r["tonic_found"] and r["n_failed"] == 1
    assert r["new_spb"] == [2] and r["irregular_spb_values"] == [4]
    # a map that only reproduces its training regime and tonic spiking: LCS 2 of 4
    model2 = {"param": "c", "points": [pt(0, "bursting", [3]), pt(1, "tonic"), pt(2, "tonic")]}
    r2 = evaluate_single(TRUE, model2, training_spb=[3])
    assert r2["score"] == 0.5 and r2["true_regimes_missing"] == ["bursting 2", "irregular"]
    assert r2["new_spb"] == []
    assert r["precision"] == 1.0 and r["n_regime_changes"] == {"true": 3, "model": 3}
    assert r2["precision"] == 1.0  # both of its regimes are in the true order


def test_single_precision_exposes_a_fragmented_sweep():
    # the true order 2, 3, irregular, tonic is a subsequence of a map sequence that cycles through
    # its regimes three times: same score 1 as a clean map, precision 4 of 12 regime runs, and
    # shuffled runs score 1 about as often (the order is not informative)
    cycle = [("bursting", [2]), ("bursting", [3]), ("irregular", [4, 5]), ("tonic", ())]
    model = {"param": "c", "points": [pt(float(i), reg, spb) for i, (reg, spb) in enumerate(cycle * 3)]}
    r = evaluate_single(TRUE, model)
    assert r["score"] == 1.0
    assert r["precision"] == pytest.approx(4 / 12)
    assert r["n_regime_changes"] == {"true": 3, "model": 11}
    assert r["chance"]["mean"] > 0.8 and r["chance"]["p_value"] > 0.3
    assert evaluate_single(TRUE, {"param": "c", "points": [pt(0.0, "failed")]})["precision"] == 0.0


def test_tonic_onset_and_tagged_scores():
    assert tonic_onset([-44, -43, -42, -41, -40], ["bursting", "bursting", "tonic", "mixed", "tonic"]) == -40.5
    assert tonic_onset([0, 1], ["tonic", "tonic"]) is None
    model = {"param": "c", "points": [
        pt(-44, "bursting", [2], 0.01, [0.1, 0.1, 3.0]), pt(-43, "bursting", [3], 0.0, [0.1, 0.1, 3.0]),
        pt(-42, "bursting", [3], 0.0, [0.1, 0.1, 0.1, 3.0]), pt(-41, "irregular", [4], 0.05, [0.1, 2.0]),
        pt(-40, "irregular", [4], 0.3, [0.1, 2.0]), pt(-39, "tonic", [], None, [0.2, 0.2]),
    ]}
    r = evaluate_tagged(TRUE, model)
    assert r["heldout_accuracy"] == pytest.approx(4 / 6)  # -44, -42, -41, -39 match
    assert r["transition"]["true"] == -40.5 and r["transition"]["model"] == -39.5
    assert r["transition"]["abs_error"] == pytest.approx(1.0)
    # signs with band 0.1: agree at -44,-43,-42 (0), -39 is NaN (miss), -41 (0.5 vs 0.05) and -40 miss
    assert r["lyapunov_sign_agreement"] == pytest.approx(3 / 6)
    assert r["isi_w1_rel_median"] == pytest.approx(0.0)  # identical samples at four of six points


def test_tagged_rejects_mismatched_grids_and_bad_input():
    with pytest.raises(InputError, match="same parameter values"):
        evaluate_tagged(TRUE, {"points": TRUE["points"][:2]})
    with pytest.raises(InputError, match="points"):
        evaluate_single({"nope": 1}, TRUE)


def _stub_model(stretch):
    """A stand-in for a fitted model whose free run is the data's periodic burst train, slowed by ``stretch``."""
    import types

    import numpy as np

    def trace(t):  # 3 spikes of width 0.02 every 1 time unit inside a burst of period 10
        ph = np.mod(t, 10.0)
        return np.where((ph < 3.0) & (np.mod(ph, 1.0) < 0.05), 20.0, -60.0)

    dt = 0.01
    data = trace(np.arange(200_000) * dt)

    def simulate_batch(c, n, n_tr):
        return np.stack([trace((n_tr + np.arange(n)) * dt / stretch) for _ in np.atleast_1d(c)])

    m = types.SimpleNamespace(spike_threshold_=-30.0, spike_hysteresis_=0.0, dt_=dt, mode_="single",
                              param_values_=[1.0], sampling_=types.SimpleNamespace(stride=1), simulate_batch=simulate_batch,
                              resample=lambda s: np.asarray(s.values, dtype=np.float64))
    return m, data


@pytest.mark.parametrize("stretch", [1.0, 1.05])
def test_free_running_check_reports_the_time_scale_error(stretch):
    """isi_mean_ratio is the map's mean ISI over the data's; D_H sees a 5 % slower copy of a periodic
    burst train as a different spectrum, the regime check does not."""
    from dynamap import Series
    from dynamap.pipeline.check import free_running_check

    m, data = _stub_model(stretch)
    e = free_running_check(m, [Series(data, 0.01, 0.0, "V", 1.0)])["series"][0]
    assert e["match"] and e["data"]["spikes_per_burst"] == [3]
    assert e["isi_mean_ratio"] == pytest.approx(stretch, rel=0.015)  # edges: about 1 period in 100
    if stretch == 1.0:
        assert e["power_hellinger"]["value"] < 0.05
    else:
        assert e["power_hellinger"]["value"] > 0.2


def test_check_summary_lines():
    from dynamap import Series
    from dynamap.pipeline.check import check_summary, free_running_check

    m, data = _stub_model(1.05)
    chk = free_running_check(m, [Series(data, 0.01, 0.0, "V", 1.0)])
    (line,) = check_summary(chk)
    e = chk["series"][0]
    assert line.startswith("check at 1: data bursting [3], map bursting [3] (match)")
    assert f"ISI W1 {100 * e['isi_w1']['value_rel']:.1f} % of the mean ISI" in line
    assert f"D_H {e['power_hellinger']['value']:.3f}" in line and "mean ISI map/data 1.0" in line
    silent = {"series": [{"param_value": -40.0, "data": {"regime": "tonic", "spikes_per_burst": [1]},
                          "map": {"regime": "diverged", "spikes_per_burst": []}, "match": False}]}
    assert check_summary(silent) == ["check at -40: data tonic, map diverged (NO match)"]


def test_free_running_check_matches_irregular_segments_by_the_point_rule(monkeypatch):
    """An irregular segment matches an irregular map whatever spike counts each shows (the point rule,
    docs/metrics.md section 2); a bursting one needs the same counts."""
    import types

    import dynamap.pipeline.check as check
    from dynamap import Series
    from dynamap.analysis.regimes import classify

    m, data = _stub_model(1.0)
    labels = iter([])

    def fake(x, dt, th, hysteresis=0.0):
        r = classify(x, dt, th, hysteresis=hysteresis)
        regime, spb = next(labels)
        return types.SimpleNamespace(regime=regime, spikes_per_burst=spb, spb_counts={}, isi_mean=r.isi_mean)

    monkeypatch.setattr(check, "classify", fake)
    for data_label, map_label, match in [(("irregular", [3, 4, 5, 20]), ("irregular", [3, 4, 5, 6, 15]), True),
                                         (("bursting", [3]), ("bursting", [4]), False),
                                         (("irregular", [3, 4]), ("bursting", [3, 4]), False)]:
        labels = iter([data_label, map_label])
        e = check.free_running_check(m, [Series(data, 0.01, 0.0, "V", 1.0)])["series"][0]
        assert e["match"] is match, (data_label, map_label)
