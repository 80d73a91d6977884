"""Baselines of the knob (docs/metrics.md section 3): the nearest-tag lookup, its held-out
accuracy and the beyond-lookup recall, on hand-built sweeps whose answers are known in closed form."""

from __future__ import annotations

import pytest

from dynamap._core.errors import InputError
from dynamap.analysis.compare import point_label
from dynamap.analysis.scores import (
    beyond_lookup_recall,
    heldout_accuracy,
    nearest_tag_baseline,
    nearest_tag_lookup,
    points_at,
)


def _pt(value, regime, spb=()):
    return {"value": float(value), "regime": regime, "spikes_per_burst": list(spb)}


B3, B4, TONIC, IRR = ("bursting", (3,)), ("bursting", (4,)), ("tonic", (1,)), ("irregular", (3, 5))

#: tags at 0 (3-spike bursts) and 10 (tonic spiking); held-out values 1..9 with known labels
TAGS = [_pt(0, *B3), _pt(10, *TONIC)]
TRUTH_LABELS = {1: B3, 2: B3, 3: B3, 4: B4, 5: B4, 6: IRR, 7: TONIC, 8: TONIC, 9: TONIC}
TRUTH = [_pt(v, *lab) for v, lab in TRUTH_LABELS.items()]
VALUES = list(TRUTH_LABELS)


def test_lookup_takes_the_nearest_tag_and_the_lower_one_on_a_tie():
    # oracle: 1..4 are nearer to 0, 6..9 nearer to 10, 5 is equidistant -> the lower tag, 0
    look = nearest_tag_lookup(VALUES, TAGS)
    assert [p["tag"] for p in look] == [0.0] * 5 + [10.0] * 4
    assert [p["value"] for p in look] == [float(v) for v in VALUES]
    assert [(p["regime"], tuple(p["spikes_per_burst"])) for p in look] == [B3] * 5 + [TONIC] * 4
    # beyond the outermost tags the lookup repeats the end tag
    assert [p["tag"] for p in nearest_tag_lookup([-3.0, 12.5], TAGS)] == [0.0, 10.0]


def test_lookup_labels_are_the_tag_labels_of_point_label():
    # the lookup copies the tag's regime and spikes-per-burst set: the same label as point_label
    tags = [_pt(-2, "mixed", (4, 3, 3)), _pt(2, "silent")]
    look = nearest_tag_lookup([-1.0, 1.0], tags)
    assert [point_label(p) for p in look] == [point_label(t) for t in tags]


def test_lookup_does_not_depend_on_the_order_of_the_tags():
    assert nearest_tag_lookup(VALUES, TAGS[::-1]) == nearest_tag_lookup(VALUES, TAGS)


def test_baseline_is_k_over_9():
    # oracle: the lookup is right at 1, 2, 3 (3-spike bursts) and 7, 8, 9 (tonic); wrong at 4 and 5
    # (4 spikes, predicted 3) and 6 (irregular, predicted tonic): 6 of 9
    assert nearest_tag_baseline(TRUTH, TAGS) == 6 / 9
    assert nearest_tag_baseline(TRUTH, TAGS) == heldout_accuracy(TRUTH, nearest_tag_lookup(VALUES, TAGS))


def test_baseline_on_the_tie_follows_the_lower_tag():
    # oracle: the only held-out value, 5, is equidistant; its truth is the upper tag's label, so
    # the lookup (lower tag) misses it; with the truth of the lower tag it hits
    assert nearest_tag_baseline([_pt(5, *TONIC)], TAGS) == 0.0
    assert nearest_tag_baseline([_pt(5, *B3)], TAGS) == 1.0


def test_baseline_uses_the_heldout_rule_for_irregular_and_spike_sets():
    # irregular points match on the regime alone; periodic ones on the set of spikes per burst
    tags = [_pt(0, "irregular", (2, 7)), _pt(10, "mixed", (4, 3))]
    truth = [_pt(1, "irregular", (3, 5)), _pt(9, "mixed", (3, 4, 4)), _pt(8, "mixed", (3,))]
    assert nearest_tag_baseline(truth, tags) == 2 / 3


def test_recall_is_m_over_n():
    # the lookup is wrong at 4, 5, 6 (n = 3); the model is right at 4 and 6, wrong at 5 (m = 2), and
    # also wrong at 1, where the lookup is right (that does not enter the recall)
    look = nearest_tag_lookup(VALUES, TAGS)
    model_labels = dict(TRUTH_LABELS)
    model_labels[5] = B3
    model_labels[1] = TONIC
    model = [_pt(v, *lab) for v, lab in model_labels.items()]
    assert beyond_lookup_recall(TRUTH, model, look) == 2 / 3
    assert heldout_accuracy(TRUTH, model) == 7 / 9
    # the truth itself gets every lookup miss right; the lookup itself gets none
    assert beyond_lookup_recall(TRUTH, TRUTH, look) == 1.0
    assert beyond_lookup_recall(TRUTH, look, look) == 0.0


def test_recall_is_none_when_the_lookup_is_never_wrong():
    truth = [_pt(v, *(B3 if v < 5 else TONIC)) for v in (1, 2, 6, 9)]
    look = nearest_tag_lookup([1.0, 2.0, 6.0, 9.0], TAGS)
    assert nearest_tag_baseline(truth, TAGS) == 1.0
    assert beyond_lookup_recall(truth, [_pt(v, "silent") for v in (1, 2, 6, 9)], look) is None


def test_recall_counts_a_failed_model_point_as_wrong():
    look = nearest_tag_lookup(VALUES, TAGS)
    model = [_pt(v, "failed") if v == 4 else _pt(v, *lab) for v, lab in TRUTH_LABELS.items()]
    assert beyond_lookup_recall(TRUTH, model, look) == 2 / 3


def test_points_at_picks_the_tag_points_from_a_sweep():
    sweep = [_pt(v, *lab) for v, lab in {0: B3, 1: B3, 5: B4, 10: TONIC}.items()]
    got = points_at(sweep, [10.0, 1e-9])
    assert [p["value"] for p in got] == [10.0, 0.0]
    assert nearest_tag_baseline(TRUTH, points_at(sweep, [0.0, 10.0])) == 6 / 9
    with pytest.raises(InputError, match="no point at value 7"):
        points_at(sweep, [0.0, 7.0])


def test_bad_inputs_are_input_errors():
    with pytest.raises(InputError, match="two points at value 0"):
        nearest_tag_lookup([1.0], [_pt(0, *B3), _pt(0, *TONIC)])
    with pytest.raises(InputError, match="tag_points is empty"):
        nearest_tag_lookup([1.0], [])
    with pytest.raises(InputError, match="regime"):
        nearest_tag_lookup([1.0], [{"value": 0.0}])
    with pytest.raises(InputError, match="value"):
        nearest_tag_baseline([{"regime": "tonic"}], TAGS)
    with pytest.raises(InputError, match="true_points is empty"):
        nearest_tag_baseline([], TAGS)
    with pytest.raises(InputError, match="lookup_points"):
        beyond_lookup_recall(TRUTH, TRUTH, TRUTH[:3])
    with pytest.raises(InputError, match="model_points"):
        beyond_lookup_recall(TRUTH, TRUTH[:3], TRUTH)


# ------------------------------------------------------------------ wired into evaluate_tagged / compare


def _sweep(labels, le=None, isi=(0.1, 0.1, 3.0)):
    return {"param": "p", "points": [
        {**_pt(v, *lab), "lyapunov_max": le, "isi": list(isi)} for v, lab in labels.items()]}


def test_evaluate_tagged_reports_the_lookup_beside_the_accuracy():
    from dynamap.analysis.compare import compare, compare_summary, evaluate_tagged

    # the model of test_recall_is_m_over_n: right at 7 of 9, where the lookup is right at 6 of 9;
    # the lookup is wrong at 4, 5, 6 and the model right at 4 and 6 of those (2 of 3)
    model_labels = dict(TRUTH_LABELS)
    model_labels[5] = B3
    model_labels[1] = TONIC
    truth, model = _sweep(TRUTH_LABELS), _sweep(model_labels)
    r = evaluate_tagged(truth, model, tag_points=TAGS)
    assert r["heldout_accuracy"] == 7 / 9
    assert r["nearest_tag_baseline"] == 6 / 9 and r["n_lookup_match"] == 6 and r["n_lookup_wrong"] == 3
    assert r["beyond_lookup_recall"] == 2 / 3
    assert r["tags"] == [0.0, 10.0]
    assert [p["lookup_tag"] for p in r["points"]] == [0.0] * 5 + [10.0] * 4  # 5: the lower tag
    assert [p["lookup"] for p in r["points"]] == ["bursting 3"] * 5 + ["tonic"] * 4
    assert [p["value"] for p in r["points"] if not p["lookup_match"]] == [4.0, 5.0, 6.0]
    # the identity of docs/metrics.md: N A = N_both + R |W|
    n_both = sum(p["match"] and p["lookup_match"] for p in r["points"])
    assert r["n_match"] == n_both + r["beyond_lookup_recall"] * r["n_lookup_wrong"]

    # without tag_points the result is what it was: none of the lookup's keys, per point either
    plain = evaluate_tagged(truth, model)
    lookup_keys = {"nearest_tag_baseline", "beyond_lookup_recall", "n_lookup_match", "n_lookup_wrong", "tags"}
    assert not lookup_keys & set(plain)
    assert all(set(p) == {"value", "true", "model", "match"} for p in plain["points"])
    assert {k: v for k, v in r.items() if k not in lookup_keys | {"points"}} == \
        {k: v for k, v in plain.items() if k != "points"}

    # compare passes them through and the summary prints them beside the accuracy
    c = compare(truth, model, tag_points=TAGS)
    assert c["mode"] == "tagged" and c["beyond_lookup_recall"] == 2 / 3
    line = compare_summary(c)
    assert "held-out accuracy 0.778 (7 of 9) beside the nearest-tag lookup's 0.667 (6 of 9)" in line
    assert "beyond-lookup recall 0.667 (of the 3 values where the lookup is wrong)" in line
    assert "nearest-tag" not in compare_summary(compare(truth, model))
    # the lookup never wrong: recall None, printed as n/a
    easy = {v: (B3 if v < 5 else TONIC) for v in (1, 2, 6, 9)}
    r0 = compare(_sweep(easy), _sweep(easy), tag_points=TAGS)
    assert r0["nearest_tag_baseline"] == 1.0 and r0["beyond_lookup_recall"] is None
    assert "beyond-lookup recall n/a (the lookup is never wrong)" in compare_summary(r0)
    with pytest.raises(InputError, match="tag_points is empty"):
        evaluate_tagged(truth, model, tag_points=[])


def test_compare_takes_the_tag_points_from_the_true_sweep_when_the_model_names_its_tags():
    from dynamap.analysis.compare import compare

    model_labels = dict(TRUTH_LABELS)
    model_labels[5] = B3
    model_labels[1] = TONIC
    # the true sweep over 0..10 (tags included), the model's over the same values, naming its tags
    truth = _sweep({0: B3, **TRUTH_LABELS, 10: TONIC})
    model = {**_sweep({0: B3, **model_labels, 10: TONIC}), "source": {"training_values": [0.0, 10.0]}}
    c = compare(truth, model)
    assert c["tags"] == [0.0, 10.0] and c["n_points"] == 11
    # the tags themselves are matched by both; the held-out values as in the closed form above
    assert c["nearest_tag_baseline"] == 8 / 11 and c["beyond_lookup_recall"] == 2 / 3
    # without a point at every tag, or without recorded tags: no lookup
    assert "nearest_tag_baseline" not in compare(_sweep(TRUTH_LABELS), {**_sweep(model_labels), **{
        "source": {"training_values": [0.0, 10.0]}}})
    assert "nearest_tag_baseline" not in compare(truth, _sweep({0: B3, **model_labels, 10: TONIC}))


def test_cli_compare_reads_the_tag_sweep(tmp_path):
    import json

    from dynamap.cli.main import main

    model_labels = dict(TRUTH_LABELS)
    model_labels[5] = B3
    model_labels[1] = TONIC
    paths = {}
    for name, sw in (("true", _sweep(TRUTH_LABELS)),
                     ("model", {**_sweep(model_labels), "source": {"training_values": [0.0, 10.0]}}),
                     ("tags", _sweep({0: B3, 5: B4, 10: TONIC}))):  # an extra point at 5: not a tag
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(sw))
    out = tmp_path / "scores.json"
    assert main(["compare", str(paths["true"]), str(paths["model"]), "--tag-sweep", str(paths["tags"]),
                 "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["tags"] == [0.0, 10.0] and res["nearest_tag_baseline"] == 6 / 9
    assert res["beyond_lookup_recall"] == 2 / 3
