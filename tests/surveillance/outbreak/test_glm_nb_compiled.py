"""The compiled ``glm.nb`` against the NumPy one it replaces (itself checked against R in
``test_outbreak_vs_r.py``): same estimates to rounding on the common path, and the NumPy path's
answer wherever the compiled one steps off it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from bindeled.surveillance.outbreak import _glm_nb_compiled
from bindeled.surveillance.outbreak._glm import glm_nb, glm_nb_numpy
from bindeled.surveillance.outbreak._polygamma import digamma, trigamma
from bindeled.surveillance.outbreak.controls import Mu0Model
from bindeled.surveillance.outbreak.glr import _design

WEEKS = np.arange(1, 261, dtype=float)


def _counts(seed: int, level: float, size: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mean = level * np.exp(0.5 * np.sin(2 * np.pi * WEEKS / 52) + 0.002 * WEEKS)
    return rng.negative_binomial(size, size / (size + mean)).astype(float)


@pytest.mark.parametrize("model", [Mu0Model(), Mu0Model(S=2, trend=True)], ids=["S1", "S2-trend"])
@pytest.mark.parametrize(("seed", "level", "size"), [(1, 0.4, 0.5), (2, 3.0, 2.0), (3, 25.0, 5.0), (4, 200.0, 50.0)])
def test_compiled_fit_matches_numpy_fit(model: Mu0Model, seed: int, level: float, size: float) -> None:
    x = _design(WEEKS, model, 52)
    y = _counts(seed, level, size)
    fast, reference = glm_nb(x, y), glm_nb_numpy(x, y)
    assert fast is not None and reference is not None
    (fit, theta), (ref, ref_theta) = fast, reference
    assert theta == pytest.approx(ref_theta, rel=1e-10)
    np.testing.assert_allclose(fit.coefficients, ref.coefficients, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fit.fitted, ref.fitted, rtol=1e-10)
    np.testing.assert_allclose(fit.working_weights, ref.working_weights, rtol=1e-10)
    np.testing.assert_allclose(fit.cov_unscaled, ref.cov_unscaled, rtol=1e-9, atol=1e-14)
    assert fit.converged == ref.converged
    assert fit.df_residual == ref.df_residual
    counts, where = np.unique(y, return_inverse=True)
    assert _glm_nb_compiled.glm_nb(x, y, counts, where)[0] == _glm_nb_compiled.OK  # not the NumPy fallback


def test_aliased_column_takes_the_numpy_path_and_is_dropped_as_in_r() -> None:
    base = _design(WEEKS, Mu0Model(), 52)
    x = np.column_stack([base, 2.0 * base[:, 1]])
    y = _counts(5, 4.0, 2.0)
    counts, where = np.unique(y, return_inverse=True)
    assert _glm_nb_compiled.glm_nb(x, y, counts, where)[0] == _glm_nb_compiled.OFF_PATH
    fast, reference = glm_nb(x, y), glm_nb_numpy(x, y)
    assert fast is not None and reference is not None
    assert fast[0].kept.tolist() == [True, True, True, False]
    np.testing.assert_array_equal(fast[0].coefficients, reference[0].coefficients)
    assert fast[1] == reference[1]


def test_all_zero_baseline_gives_the_numpy_answer() -> None:
    x = _design(WEEKS, Mu0Model(), 52)
    y = np.zeros(WEEKS.shape[0])
    fast, reference = glm_nb(x, y), glm_nb_numpy(x, y)
    assert (fast is None) == (reference is None)
    if fast is not None and reference is not None:
        np.testing.assert_array_equal(fast[0].coefficients, reference[0].coefficients)
        np.testing.assert_equal(fast[1], reference[1])


def test_polygamma_matches_scipy() -> None:
    xs = np.concatenate([np.geomspace(1e-6, 1e12, 4000), np.arange(0.0, 500.0) + 0.37, np.arange(1.0, 500.0)])
    ours = np.array([digamma(v) for v in xs])
    np.testing.assert_allclose(ours, special.digamma(xs), rtol=1e-14, atol=2e-15)
    np.testing.assert_allclose([trigamma(v) for v in xs], special.polygamma(1, xs), rtol=1e-14)
    assert np.isnan(digamma(0.0)) and np.isnan(trigamma(-1.0))
