"""The system protocol (dynamap._core.protocols) over every built-in system; the learned families run
it in tests/test_families.py."""

import numpy as np
import pytest

import dynamap
from dynamap._core.protocols import MapLike, MapSystem, SystemLike
from dynamap.systems.conformance import check_system


@pytest.mark.parametrize("name", dynamap.list_systems())
def test_every_built_in_system_conforms(name):
    check_system(dynamap.get_system(name))


def test_the_checks_fail_on_a_system_that_breaks_the_protocol():
    """A map whose spectrum sums disagree with its own Jacobian, and an object with only a step: the
    checker says what is wrong."""
    import dataclasses

    henon = dynamap.get_system("henon")

    class Wrong(type(henon)):
        def spectrum_sums(self, x0, p, q, n_transient, n_steps):
            return np.zeros((x0.shape[0], q.shape[2]))

    wrong = Wrong(**{f.name: getattr(henon, f.name) for f in dataclasses.fields(henon)})
    with pytest.raises(AssertionError, match="spectrum_sums"):
        check_system(wrong)

    class StepOnly:
        dim = 1

        def step(self, x, p):
            return x

    assert not isinstance(StepOnly(), MapLike)
    with pytest.raises(AssertionError, match="SystemLike"):
        check_system(StepOnly())


def test_learned_maps_and_built_in_maps_share_the_map_protocol(make_tiny_config):
    """A learned map is a MapSystem like a built-in one (the protocol check on a tiny fit)."""
    hh = dynamap.get_system("hh-burster")
    v = dynamap.simulate(hh, {"V_S": -40.0}, t_end=160.0, transient=100.0, dt=0.005).series("V", param_value=-40.0)
    learned = dynamap.fit(v, config=make_tiny_config(encoder="delay", map_family="ridge",
                                                           ridge=dynamap.RidgeConfig(candidates=1)),
                          seed=0, progress=False).as_system()
    assert isinstance(learned, MapSystem) and isinstance(dynamap.get_system("henon"), MapSystem)
    assert isinstance(hh, SystemLike) and not isinstance(hh, MapSystem)
    check_system(learned)
