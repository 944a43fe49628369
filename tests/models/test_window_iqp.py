"""IQP circuits over whole windows and their look-alike as models: the start, the fit, moment statistics,
the held-out MMD and the command line beyond what samples classically."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spiqgan.cli import main
from spiqgan.evaluation.moments import compare_moments, moment_pairs, moment_statistics, replicate_mean, window_statistics
from spiqgan.exceptions import ConfigError
from spiqgan.experiments.moments import heldout_mmd, model_expval, moment_replicates, windows_expval
from spiqgan.models import make_model
from spiqgan.quantum.expval import iqp_probabilities, window_generators


def _exact_moments(p: np.ndarray, t: int, n: int, lags: int) -> tuple[np.ndarray, np.ndarray]:
    m = t * n
    bits = ((np.arange(2**m)[:, None] >> np.arange(m - 1, -1, -1)) & 1).astype(np.float64)
    z = 1 - 2 * bits
    pairs = moment_pairs(t, n, lags)
    return p @ z, p @ (z[:, pairs[:, 0]] * z[:, pairs[:, 1]])


def test_moment_statistics_are_the_sampled_statistics():
    """From exact <Z>, <ZZ> of a large-angle IQP circuit against the statistics of a stratified sample (every window
    as often as its probability says, to rounding)."""
    t, n = 3, 4
    g = window_generators(t, n, 2)
    p = iqp_probabilities(torch.as_tensor(np.random.default_rng(0).uniform(0, np.pi, g.n_parameters)), g).numpy()
    counts = np.round(p * 2_000_000).astype(int)
    windows = np.repeat(((np.arange(2**12)[:, None] >> np.arange(11, -1, -1)) & 1).astype(np.uint8), counts, 0)
    z1, z2 = _exact_moments(counts / counts.sum(), t, n, 2)
    ours, sampled = moment_statistics(z1, z2, t, n, max_lag=5), window_statistics(windows.reshape(-1, t, n), max_lag=5)
    for name in ours:
        assert np.allclose(ours[name], sampled[name], atol=1e-12, equal_nan=True), name
    assert moment_statistics(z1[:4], np.zeros(6), 1, 4)["lag_covariance"] is None  # t = 1: undefined, as sampled


def _independent(rates: np.ndarray, count: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random((count,) + rates.shape) < rates).astype(np.uint8)


def test_a_perfect_model_has_ratio_one_and_a_wrong_one_does_not():
    t, n = 3, 4
    rates = np.random.default_rng(1).uniform(0.05, 0.3, (t, n))
    held = _independent(rates, 6000, 2)
    repeats = np.arange(6000) % 60
    z1 = (1 - 2 * rates).reshape(-1)
    pairs = moment_pairs(t, n, 2)
    truth = moment_statistics(z1, z1[pairs[:, 0]] * z1[pairs[:, 1]], t, n)
    zero = {k: None if v is None else np.zeros_like(v) for k, v in truth.items()}
    rows = {r.statistic: r for r in compare_moments(truth, zero, held, repeats, n_draws=40)}
    for name in ("firing_rate", "covariance", "lag_covariance", "time_course"):
        assert 0.4 < rows[name].ratio < 2.5, (name, rows[name])
    z1w = (1 - 2 * rates * 1.3).reshape(-1)
    wrong = moment_statistics(z1w, z1w[pairs[:, 0]] * z1w[pairs[:, 1]], t, n)
    assert {r.statistic: r for r in compare_moments(wrong, zero, held, repeats)}["time_course"].ratio > 10
    # an estimator noisier than the floor is n/a, not a ratio
    loud = {k: None if v is None else np.full_like(v, 1.0) for k, v in truth.items()}
    row = {r.statistic: r for r in compare_moments(truth, loud, held, repeats)}["firing_rate"]
    assert row.ratio is None and row.note.startswith("n/a")


def test_the_start_is_the_look_alike_at_the_datas_rates():
    """Independent windows: no coupling is needed, and every qubit's angle gives its rate (sin^2 theta = r)."""
    rates = np.array([[0.1, 0.2, 0.05]] * 2)
    x = _independent(rates, 200_000, 3)
    model = make_model("bitflip-window", 3, 2, steps=1, lr=1e-12).fit(x)
    g = model.generators()
    single = g.parameter[g.qubits[:, 1] < 0][:3]
    assert np.allclose(np.sin(model.start_[single]) ** 2, x.mean((0, 1)), atol=3e-3)
    assert np.abs(np.delete(model.start_, single)).max() < 0.03  # couplings of independent data: about 0


@pytest.mark.parametrize("family", ["iqp-window", "bitflip-window"])
def test_the_fit_lowers_the_held_out_mmd(family):
    """Data from a large-angle IQP circuit (the look-alike's moment-matched start is not its optimum); the fitted
    model is closer to fresh held-out windows than its start."""
    t, n = 2, 3
    g = window_generators(t, n, 1)
    p = iqp_probabilities(torch.as_tensor(np.random.default_rng(4).uniform(0, np.pi, g.n_parameters)), g).numpy()
    rng = np.random.default_rng(5)
    draw = [((rng.choice(64, 20000, p=p / p.sum())[:, None] >> np.arange(5, -1, -1)) & 1).astype(np.uint8)
            .reshape(-1, t, n) for _ in range(2)]
    model = make_model(family, n, t, steps=150, lr=0.02, seed=0).fit(draw[0])
    start = make_model(family, n, t, steps=1, lr=1e-12, seed=0).fit(draw[0])
    result = heldout_mmd({"fitted": model_expval(model, 2000), "start": model_expval(start, 2000)}, draw[1],
                         np.arange(20000) % 50, model.sigmas())
    assert result.verdict("fitted", "start") == "fitted better", result.differences


def test_heldout_mmd_is_zero_between_a_model_and_itself_and_sees_a_wrong_model():
    rates = np.full((2, 3), 0.2)
    held = _independent(rates, 8000, 5)
    repeats = np.arange(8000) % 40
    same = windows_expval(_independent(rates, 40000, 6))
    wrong = windows_expval(_independent(rates * 1.5, 40000, 7))
    result = heldout_mmd({"a": same, "b": same, "wrong": wrong}, held, repeats, [1.0, 2.0])
    assert result.differences[("a", "b")][0] == 0.0 and result.verdict("a", "b") == "level"
    assert result.verdict("a", "wrong") == "a better"
    low, high = result.models["a"][1]
    assert low < 0.002 and high > -0.002  # the right model's MMD^2 interval holds about 0


def test_the_look_alikes_moments_are_exact_and_the_iqp_estimate_is_within_its_error():
    t, n = 2, 3
    x = _independent(np.full((t, n), 0.2), 5000, 8)
    iqp = make_model("iqp-window", n, t, steps=5).fit(x)
    iqp.theta_ = np.random.default_rng(9).uniform(0, np.pi, iqp.theta_.size)  # far from the small-angle regime
    stats = replicate_mean(moment_replicates(iqp, t, n, replicates=8, n_samples=4000))
    exact = moment_statistics(*_exact_moments(iqp._probabilities(), t, n, 1), t, n)
    for name in ("firing_rate", "covariance", "lag_covariance"):
        z = np.abs(stats[0][name] - exact[name]) / np.sqrt(stats[1][name])
        assert z.max() < 4.5, name
    bitflip = make_model("bitflip-window", n, t, steps=5).fit(x)
    reps = moment_replicates(bitflip, t, n)
    assert len(reps) == 2 and all(np.array_equal(a, b) for a, b in zip(reps[0].values(), reps[1].values())
                                  if a is not None)


def test_bad_options_are_one_line_errors():
    with pytest.raises(ConfigError, match="kernel_weights"):
        make_model("iqp-window", 3, 2, kernel_weights="1,x").resolved_params()
    with pytest.raises(ConfigError, match="max_lag"):
        make_model("iqp-window", 3, 2, max_lag=-1).resolved_params()


@pytest.mark.slow
def test_the_command_line_beyond_classical_sampling(tmp_path, capsys):
    """32 qubits: trained, judged from expectation values (train and evaluate), sampling refused in one line."""
    run = tmp_path / "run"
    assert main(["train", "--model", "iqp-window", "--neurons", "0-7", "--timesteps", "4", "--steps", "5",
                 "--out", str(run), "--no-progress", "--no-figures", "--eval-samples", "400"]) == 0
    out = capsys.readouterr().out
    assert "judged" not in out and "held-out MMD^2, iqp-window" in out and "pairwise covariance" in out
    text = (run / "evaluation" / "evaluation.txt").read_text()
    assert "held-out MMD^2, training windows" in text
    assert main(["evaluate", "--run", str(run), "--neurons", "0-7", "--timesteps", "4"]) == 0
    assert "judged from expectation values" in capsys.readouterr().out
    assert main(["sample", str(run), "--out", str(tmp_path / "s.npy")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot be sampled classically" in err[0]


def test_the_learning_rate_decays_to_zero(monkeypatch):
    """From the true angles, a constant rate let the noisy MMD gradient walk the fit away (held-out NLL 11.27 ->
    11.46 bits at (2, 6) with lr 0.01; 11.33 with the decay): the rate follows a cosine down to 0."""
    seen = []
    original = torch.optim.Adam.step

    def step(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", step)
    make_model("iqp-window", 3, 2, steps=20, lr=0.1).fit(_independent(np.full((2, 3), 0.2), 500, 0))
    assert len(seen) == 20 and seen[0] == pytest.approx(0.1)
    assert np.allclose(seen, 0.05 * (1 + np.cos(np.pi * np.arange(20) / 20)))
    assert seen[-1] < 0.01 * seen[0]
