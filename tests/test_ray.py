"""The Ray backend: a 4-member ensemble fitted as tasks of a local Ray instance (2 CPUs) is exactly
the one fitted in local processes (skipped without ray: pip install 'dynamap[ray]')."""

from __future__ import annotations

import json

import pytest

ray = pytest.importorskip("ray")

from dynamap import fit_ensemble, get_system, simulate  # noqa: E402
from dynamap.io.outputs import to_jsonable  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning",
                                        "ignore::UserWarning", "ignore::ResourceWarning",
                                        "ignore::pytest.PytestUnraisableExceptionWarning")


def _json(obj) -> str:
    return json.dumps(to_jsonable(obj), sort_keys=True)


def test_ray_ensemble_equals_local_processes(tiny_config):
    hh = get_system("hh-burster")
    v = simulate(hh, {"V_S": -40.0}, t_end=470.0, transient=400.0, dt=0.005).series("V", param_value=-40.0)
    local = fit_ensemble(v, k=4, seed=3, config=tiny_config, backend="local", jobs=2, check=True)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = fit_ensemble(v, k=4, seed=3, config=tiny_config, backend="ray", check=True)
        assert ray.is_initialized()  # an instance the caller started is left running
    finally:
        ray.shutdown()
    assert remote.seeds == local.seeds == [3, 4, 5, 6]
    for a, b in zip(remote.metrics, local.metrics):
        assert _json(a) == _json(b)
    for a, b in zip(remote.members, local.members):
        assert _json(a.history_["map"]["selected_score"]) == _json(b.history_["map"]["selected_score"])
        for key, t in a.map_.state_dict().items():
            assert t.equal(b.map_.state_dict()[key]), key
    # the seeds differ, so the members do: the ensemble is not 4 copies of one model
    w = [next(iter(m.map_.state_dict().values())) for m in local.members]
    assert not any(w[0].equal(x) for x in w[1:])


def test_an_address_without_a_head_node_is_one_clear_error(tiny_config):
    from dynamap import InputError

    hh = get_system("hh-burster")
    v = simulate(hh, {"V_S": -40.0}, t_end=470.0, transient=400.0, dt=0.005).series("V", param_value=-40.0)
    with pytest.raises(InputError, match="no Ray head node answers there"):
        fit_ensemble(v, k=2, config=tiny_config, backend="ray", address="127.0.0.1:1")
    assert not ray.is_initialized()
