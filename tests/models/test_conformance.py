"""Every registered model follows the estimator protocol: registering a model tests it.

fit -> sample -> save -> load -> sample (and score where a model has a likelihood), over
:data:`spiqgan.models.registry.MODEL_NAMES`. A model not in ``FAST`` runs with its defaults.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from spiqgan.exceptions import NotFittedError
from spiqgan.models.base import Estimator, HasCircuits, HasLikelihood, Previewable
from spiqgan.models.registry import MODEL_NAMES, load_model, make_model, model_class, model_params

#: options that keep each fit to a second or two; the window size where a model needs another
FAST = {
    "spiqgan": dict(n_layers=1, steps=2, noise_samples=8, eval_every=2, js_windows=50),
    "qce2023": dict(n_layers=1, steps=2, eval_every=2, js_windows=50),
    "cry": dict(steps=3, latent_nodes=3, calibrate=1),
    "iqp": dict(steps=3, latent_nodes=3),
    "bitflip": dict(steps=3, latent_nodes=3),
    "iqp-window": dict(steps=3),
    "bitflip-window": dict(steps=3),
    "wgan-mlp": dict(steps=2, batch_size=32, size=4),
    "wgan-conv": dict(steps=2, batch_size=32, size=4),
}
SHAPE = {"qce2023": (1, 2)}  # (t, n): the QCE 2023 readout needs n = 2^f neurons
PRESET = {"qce2023": "qce2023"}  # its circuit, readout and objective


def _make(name: str, x: np.ndarray):
    return make_model(name, x.shape[2], x.shape[1], preset=PRESET.get(name), **FAST.get(name, {}))


def _windows(name: str, count: int = 200, seed: int = 0) -> np.ndarray:
    t, n = SHAPE.get(name, (2, 3))
    return (np.random.default_rng(seed).random((count, t, n)) < 0.3).astype(np.uint8)


def _starts(x: np.ndarray) -> np.ndarray:
    """Start bins as windows of repeats of a 20-window stimulus give them: every model accepts them, the
    stimulus-locked ones need them."""
    return (np.arange(len(x)) % 20) * x.shape[1]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """Every registered model fitted once (shared by the tests of this module)."""
    out = {}
    for name in MODEL_NAMES:
        x = _windows(name)
        out[name] = _make(name, x).fit(x, starts=_starts(x))
    return out


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_fit_sample_save_load_sample(name, fitted, tmp_path):
    model = fitted[name]
    x = _windows(name)
    t, n = x.shape[1:]
    assert isinstance(model, Estimator) and model.name == name
    draws = model.sample(64, seed=5)
    assert draws.shape == (64, t, n) and draws.dtype == np.uint8 and set(np.unique(draws)) <= {0, 1}
    np.testing.assert_array_equal(model.sample(64, seed=5), draws)  # the same seed, the same windows
    assert model.n_parameters > 0 and model.finished_

    path = model.save(tmp_path / f"{name}.safetensors")
    again = load_model(path)
    assert type(again) is type(model) and again.name == name and again.get_params() == model.get_params()
    assert again.n_parameters == model.n_parameters
    np.testing.assert_array_equal(again.sample(64, seed=5), draws)
    assert type(model).load(path).name == name
    if isinstance(model, HasLikelihood):
        held_out = _windows(name, 50, seed=1)
        np.testing.assert_allclose(again.log_likelihood(held_out), model.log_likelihood(held_out), rtol=1e-12)
        assert again.score(held_out) == pytest.approx(float(np.mean(model.log_likelihood(held_out))), rel=1e-12)
        assert model.score(held_out) < 0


@pytest.mark.parametrize("name", [m for m in MODEL_NAMES if issubclass(model_class(m), HasLikelihood)])
def test_the_likelihood_is_a_distribution(name, fitted):
    """exp(log-likelihood) over every window of (t, n) sums to 1."""
    t, n = SHAPE.get(name, (2, 3))
    every = np.array(list(itertools.product([0, 1], repeat=t * n)), dtype=np.uint8).reshape(-1, t, n)
    assert np.exp(fitted[name].log_likelihood(every)).sum() == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_unfitted_models_say_so(name):
    x = _windows(name)
    model = _make(name, x)
    with pytest.raises(NotFittedError, match="not"):
        model.n_parameters
    with pytest.raises(NotFittedError):
        model.sample(3)
    assert not model.finished_
    if isinstance(model, HasLikelihood):
        with pytest.raises(NotFittedError):
            model.score(x)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_options_are_the_constructor_and_documented(name):
    """Every option of a model is a keyword of its class and has a description in its docstring (--help reads it)."""
    cls = model_class(name)
    docs = cls.param_docs()
    for option in model_params(name):
        if option != "preset":
            assert option in cls._param_names()
            assert docs.get(option), f"{cls.__name__} does not document {option!r}"
    assert repr(make_model(name, 3, 2)).startswith(cls.__name__ + "(")


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_abilities_are_mixins(name, fitted):
    """Circuits exactly for the quantum generators, a preview for the models whose steps can be timed."""
    model = fitted[name]
    assert isinstance(model, HasCircuits) == (name in ("spiqgan", "qce2023", "cry", "iqp", "bitflip"))
    if isinstance(model, HasCircuits):
        export = model.circuits()
        assert export.model == name and export.circuits
    if isinstance(model, Previewable):
        x = _windows(name)
        fresh = _make(name, x)
        preview = fresh.preview(x)
        assert preview["parameters"] == model.n_parameters and preview["seconds_per_step"] > 0


@pytest.mark.parametrize("name", [m for m in MODEL_NAMES if m not in ("spiqgan", "qce2023")])
def test_resuming_a_finished_fit_keeps_it(name, fitted):
    """A fit in one call is complete: resume returns it as it is (it was refitted, or silently ignored)."""
    model = fitted[name]
    before = model.sample(32, seed=2)
    history = list(model.history_)
    assert model.fit(_windows(name), resume=True) is model
    assert model.history_ == history
    np.testing.assert_array_equal(model.sample(32, seed=2), before)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_any_memory_layout_fits_the_same(name, fitted):
    """``scipy.io.loadmat`` gives Fortran-ordered arrays: the Born machines died in a torch view on them."""
    x = _windows(name)
    model = _make(name, x).fit(np.asfortranarray(x), starts=_starts(x))
    np.testing.assert_array_equal(model.sample(32, seed=5), fitted[name].sample(32, seed=5))
    if isinstance(model, HasLikelihood):
        np.testing.assert_array_equal(model.log_likelihood(np.asfortranarray(x)), fitted[name].log_likelihood(x))
