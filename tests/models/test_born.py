"""Born machines: exact likelihoods against brute-force enumeration, the independent start, sampling, save/load."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from spiqgan.models.base import ModelConfigError
from spiqgan.models.born import BornMachine, latent_rule, mmd_squared
from spiqgan.models.registry import load_model, make_model
from spiqgan.quantum.families import get_family
from spiqgan.quantum.families.base import lower_triangular, pattern_bits


def _windows(n_windows: int, t: int, n: int, seed: int = 0) -> np.ndarray:
    """Correlated toy windows: a slow common drive in each window, neurons firing more together."""
    rng = np.random.default_rng(seed)
    drive = rng.normal(size=(n_windows, 1, 1))
    p = 1 / (1 + np.exp(-(-1.5 + 1.2 * drive + 0.3 * rng.normal(size=(n_windows, t, n)))))
    return (rng.random((n_windows, t, n)) < p).astype(np.uint8)


def _all_windows(t: int, n: int) -> np.ndarray:
    return np.array(list(itertools.product((0, 1), repeat=t * n)), dtype=np.uint8).reshape(-1, t, n)


def _brute_force(model, windows: np.ndarray) -> np.ndarray:
    """P(x) from the definition: a sum over latent values of a product over steps of each step's exact distribution."""
    p = model.params_
    t = p["n_timesteps"]
    states = model.prior_.size > 0
    z, w = (None, None) if states else latent_rule(p["latent_dim"], p["latent_nodes"])
    mem, own = np.asarray(model.memory_), np.asarray(model.own_)
    if states:  # one-hot states, first drawn from softmax(prior), then from softmax(trans) rows
        z = np.eye(model.prior_.size)
        w = np.exp(model.prior_) / np.exp(model.prior_).sum()
    if model.trans_.size:
        a = np.exp(model.trans_) / np.exp(model.trans_).sum(1, keepdims=True)
        paths = [(path, w[path[0]] * np.prod([a[i, j] for i, j in zip(path, path[1:])]))
                 for path in itertools.product(range(len(w)), repeat=t)]
    elif model.stay_.size:  # the latent keeps its value with probability rho, else is redrawn from w
        rho = 1 / (1 + np.exp(-model.stay_[0]))
        paths = [(path, w[path[0]] * np.prod([rho * (a == b) + (1 - rho) * w[b] for a, b in zip(path, path[1:])]))
                 for path in itertools.product(range(len(w)), repeat=t)]
    else:
        paths = [((k,) * t, w[k]) for k in range(len(w))]
    out = np.zeros(len(windows))
    for b, x in enumerate(windows):
        for path, prob_path in paths:
            prob = prob_path
            for s in range(t):
                angles = model.angles_[s] + model.loadings_[min(s, len(model.loadings_) - 1)] @ z[path[s]]
                for lag in range(1, max(mem.shape[0], own.shape[0]) + 1):
                    prev = x[s - lag] if s - lag >= 0 else model.pad_
                    if lag <= mem.shape[0]:
                        angles = angles + mem[lag - 1] @ prev
                    if lag <= own.shape[0]:
                        angles = angles + own[lag - 1] * prev
                pairs = model.pairs_ if model.pairs_.ndim == 1 else model.pairs_[s]
                dist = get_family(model.family).distribution(torch.tensor(angles), torch.tensor(pairs)).numpy()
                prob *= dist[int("".join(map(str, x[s])), 2)]
            out[b] += prob
    return out


CASES = [
    ("cry", 2, 2, dict(latent="normal", latent_dim=1, latent_nodes=3, memory=1)),
    ("cry", 2, 3, dict(latent="normal", latent_dim=1, latent_nodes=3, memory=0, switching=False)),
    ("cry", 3, 2, dict(latent="normal", latent_dim=2, latent_nodes=2, memory=2, couplings="per_step")),
    ("cry", 2, 4, dict(latent="normal", latent_dim=1, latent_nodes=2, memory=1, history=3)),
    ("cry", 3, 1, dict(latent_dim=0)),
    ("cry", 2, 3, dict(latent="states", latent_nodes=3, memory=1, history=2)),
    ("cry", 2, 3, dict(latent_nodes=3)),  # the default at t > 1: states
    ("cry", 2, 2, dict(latent="states", latent_nodes=3, loadings="shared")),
    ("cry", 3, 2, dict(latent="states", latent_nodes=4, switching=False, couplings="per_step")),
    ("cry", 2, 1, dict(latent="states", latent_nodes=3)),
    ("iqp", 2, 3, dict(latent_dim=1, latent_nodes=3)),
    ("iqp", 3, 1, dict(latent_dim=1, latent_nodes=4, couplings="per_step")),
    ("bitflip", 2, 2, dict(latent_dim=1, latent_nodes=3)),
]


def test_count_term_likelihood_and_sampling_follow_the_definition():
    """P(x_j = 1 | x_<j) = sin^2((theta_j + sum_i W_ji x_i + c[#earlier neurons firing]) / 2), step by step."""
    n, t = 4, 2
    model = BornMachine(n, t, latent="normal", latent_dim=1, latent_nodes=3, memory=1, count_term=True, steps=5,
                         init_scale=0.5).fit(_windows(300, t, n))
    model.count_ = np.random.default_rng(0).normal(size=n)  # away from the fit's start at zero
    # angles, couplings, loadings, memory (its diagonal fixed at 0: the own history has lag 1), own, count, stay
    assert model.n_parameters == 2 * 4 + 6 + 2 * 4 + (16 - 4) + 1 * 4 + 4 + 1
    z, w = latent_rule(1, 3)
    rho = 1 / (1 + np.exp(-model.stay_[0]))
    wl = lower_triangular(torch.as_tensor(model.pairs_), n).numpy()
    every = _all_windows(t, n)
    expected = np.zeros(len(every))
    for b, x in enumerate(every):
        for path in itertools.product(range(3), repeat=t):
            prob = w[path[0]] * (rho * (path[0] == path[1]) + (1 - rho) * w[path[1]])
            for s in range(t):
                prev = x[s - 1] if s else model.pad_
                for j in range(n):
                    angle = (model.angles_[s, j] + model.loadings_[s, j] @ z[path[s]] + model.memory_[0, j] @ prev
                             + model.own_[0, j] * prev[j]
                             + wl[j] @ x[s] + model.count_[int(x[s, :j].sum())])
                    p1 = np.sin(angle / 2) ** 2
                    prob *= p1 if x[s, j] else 1 - p1
            expected[b] += prob
    np.testing.assert_allclose(np.exp(model.log_likelihood(every)), expected, rtol=1e-10, atol=1e-14)
    draws = model.sample(40000, seed=3)
    idx = np.array([int("".join(map(str, d.ravel())), 2) for d in draws])
    freq = np.bincount(idx, minlength=2 ** (t * n)) / len(draws)
    assert np.abs(freq - expected).max() < 0.01


@pytest.mark.parametrize("family, n, t, kw", CASES, ids=lambda c: c if isinstance(c, str) else None)
def test_likelihood_is_exact(family, n, t, kw):
    model = BornMachine(n, t, family=family, steps=5, init_scale=0.5, **kw).fit(_windows(200, t, n))
    every = _all_windows(t, n)
    logp = model.log_likelihood(every)
    np.testing.assert_allclose(np.exp(logp), _brute_force(model, every), rtol=1e-10, atol=1e-14)
    assert np.exp(logp).sum() == pytest.approx(1.0, abs=1e-10)


@pytest.mark.parametrize("family, n, t, kw", CASES, ids=lambda c: c if isinstance(c, str) else None)
def test_samples_follow_the_likelihood(family, n, t, kw):
    model = BornMachine(n, t, family=family, steps=5, init_scale=0.5, **kw).fit(_windows(200, t, n))
    draws = model.sample(40000, seed=3)
    every = _all_windows(t, n)
    keys = {w.tobytes(): i for i, w in enumerate(every)}
    freq = np.bincount([keys[w.tobytes()] for w in draws], minlength=len(every)) / len(draws)
    expected = np.exp(model.log_likelihood(every))
    assert np.abs(freq - expected).max() < 5 * np.sqrt(expected.max() / len(draws))


@pytest.mark.parametrize("family", ["cry", "iqp", "bitflip"])
def test_fit_starts_at_the_independent_model(family):
    """With init_scale=0 and no steps beyond the first evaluation, every neuron and step keeps its training rate."""
    x = _windows(500, 3, 4)
    model = BornMachine(4, 3, family=family, init_scale=0.0, steps=1, latent_dim=1, memory=0, history=0)
    start = model._initial(x, model.resolved_params() | {"n_timesteps": 3, "n_neurons": 4})
    dist = get_family(family).distribution(start["angles_"], start["pairs_"])
    rates = dist @ pattern_bits(4, torch.float64)
    np.testing.assert_allclose(rates.numpy(), x.mean(0), atol=1e-12)


def test_fit_improves_on_the_independent_start_and_counts_parameters():
    x = _windows(3000, 3, 4, seed=1)
    model = BornMachine(4, 3, steps=60, seed=0, latent="normal").fit(x)
    nll = [h["nll"] for h in model.history_]
    assert nll[-1] < nll[0] - 0.01
    # angles t n, shared pairs n(n-1)/2, loadings t n d, memory L n^2 (L = 1 for t > 1 with the normal latent),
    # own history H n (H = t - 1 by default), and the latent's probability of keeping its value
    # (the memory diagonal is fixed at 0 where the own history has the lag)
    assert model.n_parameters == 3 * 4 + 6 + 3 * 4 * 1 + (16 - 4) + 2 * 4 + 1
    assert model.resources()["trainable_parameters"] == model.n_parameters
    # the default at t > 1: K = 48 states, loadings per step (t n K), no memory; the first state's weights
    # (K - 1 free) and the transition matrix (K (K - 1) free)
    states = BornMachine(4, 3, steps=3, seed=0).fit(x)
    assert states.n_parameters == 3 * 4 + 6 + 3 * 4 * 48 + 2 * 4 + 47 + 48 * 47
    assert states.resources()["latent_values"] == 48 and states.memory_.shape == (0, 4, 4)
    shared = BornMachine(4, 3, steps=3, seed=0, latent_nodes=5, loadings="shared").fit(x)
    assert shared.loadings_.shape == (1, 4, 5) and shared.n_parameters == 3 * 4 + 6 + 4 * 5 + 2 * 4 + 4 + 5 * 4
    assert BornMachine(10, 1).fit(_windows(300, 1, 10), ).n_parameters == 65


def test_progress_counts_the_likelihood_evaluations():
    """The progress line gets the evaluation number (it got 1 every time, so its time estimate said 2 h for 20 s)."""
    steps = []

    class Bar:
        def update(self, step, **fields):
            steps.append((step, fields["nll"]))

    model = BornMachine(4, 2, steps=20, seed=0).fit(_windows(500, 2, 4), progress=Bar())
    assert [s for s, _ in steps] == list(range(1, len(steps) + 1))
    assert 10 <= len(steps) <= 20
    assert steps[0][1] == pytest.approx(model.history_[0]["nll"])


@pytest.mark.parametrize("bandwidth", [0.5, 1.0, 3.0])
def test_mmd_from_the_walsh_spectrum_is_the_kernel_double_sum(bandwidth):
    m = 5
    rng = np.random.default_rng(3)
    p, q = rng.dirichlet(np.ones(2**m)), rng.dirichlet(np.ones(2**m))
    bits = _all_windows(1, m)[:, 0].astype(float)
    hamming = (bits[:, None, :] != bits[None, :, :]).sum(-1)
    kernel = np.exp(-hamming / (2 * bandwidth**2))
    direct = (p - q) @ kernel @ (p - q)
    walsh = mmd_squared(torch.as_tensor(p), torch.as_tensor(q), m, bandwidth)
    assert float(walsh) == pytest.approx(direct, rel=1e-12, abs=1e-15)
    assert float(mmd_squared(torch.as_tensor(p), torch.as_tensor(p), m, bandwidth)) == pytest.approx(0, abs=1e-15)


def test_cry_takes_more_neurons_than_the_enumerating_families():
    """cry goes neuron by neuron (likelihood and sampling), so n is not limited to 16 as for iqp and bitflip."""
    x = _windows(3000, 1, 24, seed=4)
    model = BornMachine(24, 1, steps=30, seed=0).fit(x)
    # angles, couplings, loadings, and (from 20 neurons, by default) the count term's n biases
    assert model.n_parameters == 24 + 24 * 23 // 2 + 24 + 24
    assert model.history_[-1]["nll"] < model.history_[0]["nll"]
    np.testing.assert_allclose(model.sample(20000, seed=1).mean((0, 1)), x.mean((0, 1)), atol=0.03)
    with pytest.raises(ModelConfigError, match="more than 16 neurons. Model 'cry'"):
        BornMachine(24, 1, family="iqp").fit(x)


def test_mmd_refuses_windows_of_more_than_16_bits():
    with pytest.raises(ModelConfigError, match="t n = 20 is more than 16 bits"):
        BornMachine(5, 4, objective="mmd", family="iqp").fit(_windows(10, 4, 5))


@pytest.mark.parametrize("family, t, kw", [("iqp", 1, {}), ("cry", 2, {})])
def test_mmd_fit_lowers_the_exact_mmd_and_skips_calibration(family, t, kw):
    x = _windows(4000, t, 5, seed=2)
    model = BornMachine(5, t, family=family, objective="mmd", steps=80, seed=0, **kw).fit(x)
    loss = [h["generator_loss"] for h in model.history_]
    assert loss[-1] < 0.5 * loss[0]  # relative to the independent model's MMD
    bits = 5 * t
    every = _all_windows(t, 5)
    p = torch.as_tensor(np.exp(model.log_likelihood(every)))
    data = np.bincount([int("".join(map(str, w.ravel())), 2) for w in x], minlength=2**bits) / len(x)
    rates = x.mean(0).ravel()
    flat = every.reshape(len(every), -1)
    indep = np.prod(np.where(flat == 1, rates, 1 - rates), axis=1)
    fitted = float(mmd_squared(p, torch.as_tensor(data), bits, 1.0))
    start = float(mmd_squared(torch.as_tensor(indep), torch.as_tensor(data), bits, 1.0))
    assert fitted < 0.5 * start
    assert fitted / start == pytest.approx(loss[-1] - 0.5 * 1e-4 * sum(
        float((np.asarray(getattr(model, k)) ** 2).sum()) for k in ("pairs_", "loadings_", "memory_", "own_")), rel=1e-3)


def test_save_load_round_trip(tmp_path):
    model = make_model("iqp", 3, 2, steps=3, latent_nodes=3).fit(_windows(100, 2, 3))
    path = model.save(tmp_path / "m.safetensors")
    again = load_model(path)
    assert isinstance(again, BornMachine) and again.family == "iqp"
    np.testing.assert_array_equal(again.sample(50, seed=4), model.sample(50, seed=4))
    np.testing.assert_allclose(again.log_likelihood(_windows(20, 2, 3)), model.log_likelihood(_windows(20, 2, 3)))


@pytest.mark.parametrize("kw, match", [
    (dict(memory=1), "only the 'cry' family"),
    (dict(history=2), "only the 'cry' family"),
    (dict(count_term=True), "only the 'cry' family"),
    (dict(couplings="all"), "couplings must be"),
    (dict(objective="kl"), "objective must be"),
    (dict(bandwidth=0.0), "bandwidth"),
    (dict(latent_dim=-1), "latent_dim must be"),
    (dict(latent_nodes=20, latent_dim=3), "more than 4096"),
])
def test_bad_options_are_one_line_errors(kw, match):
    with pytest.raises(ModelConfigError, match=match):
        BornMachine(2, 2, **kw, family="iqp").fit(_windows(10, 2, 2))


def test_calibration_brings_the_sampled_rates_to_the_training_rates(recording_path):
    """With memory the fit conditions on real earlier steps; generated windows feed back their own and drift.

    Measured on the recording, neurons 0, 4, 5, 8 at t = 10: without calibration the sampled rates fell up
    to 10 % below the training rates (0.0458 for 0.0507); at (10, 10) the firing-rate error was 57x the
    floor without it and 33x with it (benchmarks/born_fit.py).
    """
    from spiqgan.data.loaders import load_raster

    x = load_raster(recording_path, repeat_length=953).select_neurons("0,4,5,8").split()[0].windows(10)
    rates = x.mean((0, 1))
    errors = {}
    for rounds in (0, 5):
        model = BornMachine(4, 10, latent_dim=0, calibrate=rounds, seed=0).fit(x)
        errors[rounds] = np.abs(model.sample(40000, seed=5).mean((0, 1)) - rates).max()
    assert errors[0] > 1.5 * errors[5]


def test_preview_counts_the_parameters_the_fit_will_have_and_times_a_step():
    x = _windows(300, 2, 4)
    model = BornMachine(4, 2, steps=5, count_term=True)
    preview = model.preview(x)
    assert preview["seconds_per_step"] > 0 and preview["steps"] == 5
    assert preview["parameters"] == model.fit(x).n_parameters


def test_count_term_is_on_by_default_from_twenty_neurons():
    # measured: it halves the k-probability error at n = 20 (both halves of the recording) and n = 40,
    # and does not help at n = 10 and 15 (COUNT_TERM_MIN_NEURONS)
    from spiqgan.models.born import COUNT_TERM_MIN_NEURONS

    assert COUNT_TERM_MIN_NEURONS == 20
    small = BornMachine(19, 1, steps=2).fit(_windows(200, 1, 19))
    large = BornMachine(20, 1, steps=2).fit(_windows(200, 1, 20))
    assert small.count_.size == 0 and large.count_.size == 20
    assert BornMachine(20, 1, steps=2, count_term=False).fit(_windows(200, 1, 20)).count_.size == 0
    assert BornMachine(20, 1).preview(_windows(200, 1, 20))["parameters"] == large.n_parameters


def test_a_checkpoint_from_before_the_count_term_loads_and_a_damaged_one_is_refused(tmp_path):
    """Found exporting a run trained before count_ existed: loading it raised a KeyError traceback."""
    from spiqgan.io.checkpoint import load_checkpoint, save_checkpoint

    model = make_model("cry", 3, 2, steps=3, latent_nodes=3).fit(_windows(100, 2, 3))
    tensors, meta = load_checkpoint(model.save(tmp_path / "m.safetensors"))
    old = save_checkpoint(tmp_path / "old.safetensors", {k: v for k, v in tensors.items() if k != "count_"}, meta)
    again = load_model(old)
    assert again.count_.size == 0
    np.testing.assert_allclose(again.log_likelihood(_windows(20, 2, 3)), model.log_likelihood(_windows(20, 2, 3)))
    damaged = save_checkpoint(tmp_path / "bad.safetensors", {k: v for k, v in tensors.items() if k != "pairs_"}, meta)
    with pytest.raises(ModelConfigError, match="has no pairs_"):
        load_model(damaged)


def test_circuits_of_a_born_machine_are_of_its_fitted_model_only():
    """As sample(which="best") is refused, so are the circuits of a "best" model (they were the fitted one's)."""
    model = make_model("iqp", 3, 1, steps=2, latent_nodes=3).fit(_windows(100, 1, 3))
    assert [c.name for c in model.circuits().circuits] == ["step_0"]
    with pytest.raises(ModelConfigError, match="which must be 'last'"):
        model.circuits("best")
    with pytest.raises(ModelConfigError, match="which must be 'last'"):
        model.sample(3, which="best")


def test_the_memory_term_of_one_step_is_that_step_of_the_whole_window():
    """Sampling asks for one step's memory term at a time (the whole window's, each step, made sampling
    quadratic in t: 8.7 of 10.3 s drawing 100k windows of cry at (10, 10))."""
    model = BornMachine(3, 5, family="cry", steps=3, init_scale=0.5, memory=2, history=3).fit(_windows(200, 5, 3))
    v = model._tensors()
    x = torch.as_tensor(_windows(50, 5, 3, seed=2), dtype=torch.float64)
    whole = model._memory_term(v, x)
    assert whole.abs().max() > 0
    steps = x.permute(1, 2, 0).contiguous()  # neuron-major, as sampling draws them
    for s in range(5):
        later = steps.clone()
        later[s:] = 7.0  # steps from s on are not drawn yet and must not be read
        torch.testing.assert_close(model._memory_step(v, later, s), whole[:, s].T, rtol=0, atol=1e-14)


def test_the_fused_likelihood_kernel_is_the_conditionals_and_their_gradient():
    """The fused kernel (cosines of a sum from the parts' cosines, its own derivative) against the plain
    formula through autograd, including a bit of probability 0 (clamped, zero gradient)."""
    from spiqgan.quantum.families.cry import cry_log_conditionals, cry_pattern_log_prob

    gen = torch.Generator().manual_seed(0)
    base = torch.randn(5, 3, 6, generator=gen, dtype=torch.float64)
    inner = torch.randn(7, 3, 6, generator=gen, dtype=torch.float64)
    x = (torch.rand(7, 3, 6, generator=gen) < 0.4).to(torch.float64)
    base[0, 0, 0], inner[0, 0, 0], x[0, 0, 0] = 0.0, 0.0, 1.0  # P(x = 1) = sin^2(0) = 0
    weights = torch.randn(5, 7, 3, generator=gen, dtype=torch.float64)

    def plain(b, i):
        log1, log0 = cry_log_conditionals(b[:, None] + i[None])
        return (x * log1 + (1 - x) * log0).sum(-1)

    results = []
    for f in (lambda b, i: cry_pattern_log_prob(b, i, x), plain):
        b, i = base.clone().requires_grad_(), inner.clone().requires_grad_()
        out = f(b, i)
        results.append((out.detach(), *torch.autograd.grad((out * weights).sum(), (b, i))))
    for fused, reference in zip(*results):
        torch.testing.assert_close(fused, reference, rtol=1e-11, atol=1e-11)
    assert results[0][0][0, 0, 0] < -700 and all(torch.isfinite(g).all() for g in results[0][1:])
    assert torch.autograd.gradcheck(lambda b, i: cry_pattern_log_prob(b, i, x),
                                    (base.detach().add(0.1).requires_grad_(), inner.detach().requires_grad_()))


def test_a_likelihood_too_large_to_keep_gives_the_same_value_and_gradient(monkeypatch):
    """Above KEEP_ELEMENTS the loss evaluates each chunk twice instead of keeping its graph: the same numbers.
    The values reach the loss through a graph (as the fit's rescaling sends them), which the chunks share:
    at (40, 10) its second backward pass raised before the fix."""
    import spiqgan.models.born as born

    x = _windows(300, 4, 5)
    out = []
    for latent in ("normal", "states"):
        model = BornMachine(5, 4, init_scale=0.3, count_term=True, latent=latent, latent_nodes=3)
        p = model.resolved_params()
        p["n_timesteps"], p["n_neurons"] = 4, 5
        for keep, chunk in ((2**27, 2**20), (10, 50)):
            monkeypatch.setattr(born, "KEEP_ELEMENTS", keep)
            monkeypatch.setattr(born, "CHUNK_ELEMENTS", chunk)
            values = model._initial(x, p)
            values["count_"] += 0.1
            trained = {k: v.requires_grad_() for k, v in values.items() if k != "pad_"}
            scaled = {k: v * 1.5 for k, v in trained.items()}
            loss = model._objective(x, p)({**scaled, "pad_": values["pad_"]})
            out.append((float(loss), {k: v.grad.clone() for k, v in trained.items() if v.grad is not None}))
    for first, second in (out[:2], out[2:]):
        assert first[0] == pytest.approx(second[0], rel=1e-14) and first[1].keys() == second[1].keys()
        for k, g in first[1].items():
            torch.testing.assert_close(second[1][k], g, rtol=1e-12, atol=1e-14)


def test_the_fit_scales_are_the_gauss_newton_curvature_of_every_parameter():
    r"""Each bit's Fisher information about its angle is 1, so a parameter's curvature is
    sum_b w_b sum_{k, s, j} r_bk (d phi_kbsj / d param)^2 with posteriors r summing to 1; with one latent
    value, brute force through autograd's Jacobian of the angles."""
    x = _windows(40, 3, 4)
    model = BornMachine(4, 3, latent_dim=0, memory=1, history=2, count_term=True, l2=0.0)
    p = model.resolved_params()
    p["n_timesteps"], p["n_neurons"] = 3, 4
    values = model._initial(x, p)
    scale = model._scales(x, p, values)
    z, _ = model._latent(p)
    names = ("angles_", "pairs_", "memory_", "own_", "count_")
    xt = torch.as_tensor(x, dtype=torch.float64)

    def angles(*params):
        v = {**values, **dict(zip(names, params))}
        inner = torch.einsum("bti,ji->btj", xt, lower_triangular(v["pairs_"], 4)) + model._memory_term(v, xt)
        inner = inner + v["count_"][(torch.cumsum(xt, -1) - xt).long()]
        return model._step_angles(v, z)[:, None] + inner[None]  # (1, B, t, n)

    jac = torch.autograd.functional.jacobian(angles, tuple(values[k] for k in names))
    for k, j in zip(names, jac):
        curvature = (j**2).sum((0, 2, 3)).sum(0) / len(x)  # mean over windows of the summed squares
        expected = scale[k] ** -2
        if k == "memory_":  # the diagonal at lags the own history has is fixed at 0 (scale 0)
            fixed = torch.eye(4, dtype=torch.bool)[None]
            assert (scale[k][fixed] == 0).all()
            expected, curvature = expected[~fixed], curvature[~fixed]
        torch.testing.assert_close(expected, curvature.clamp_min(1e-4), rtol=1e-12, atol=0)


def test_the_memory_diagonal_stays_zero_where_the_own_history_has_the_lag():
    """A neuron's memory of itself at lag 1 is its own-history weight again (measured: a flat direction that
    L-BFGS crawled along); it is fixed at 0 and the own history carries it."""
    model = BornMachine(3, 4, memory=2, history=1, steps=30, init_scale=0.3).fit(_windows(300, 4, 3))
    assert (np.diagonal(model.memory_[0]) == 0).all()
    assert (np.diagonal(model.memory_[1]) != 0).all()  # lag 2: no own-history weight there
    assert np.abs(model.own_).max() > 0


def test_sampling_in_chunks_gives_the_same_windows_whatever_the_threads(monkeypatch):
    """Each chunk has its own generator seeded from the caller's: one thread or several, the same windows."""
    model = BornMachine(5, 3, steps=5, init_scale=0.3, count_term=True).fit(_windows(300, 3, 5))
    monkeypatch.setattr(BornMachine, "SAMPLE_CHUNK", 100)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = model.sample(350, seed=7)
        torch.set_num_threads(2)
        two = model.sample(350, seed=7)
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_array_equal(one, two)
    assert one.shape == (350, 3, 5) and not (one[:100] == one[100:200]).all()  # chunks differ


def test_a_checkpoint_of_the_unpreconditioned_fit_is_not_continued():
    """An interrupted fit of the version before preconditioning stored unscaled parameters and their L-BFGS
    state; continuing it would read them as scaled ones. Such a fit starts over: the same as a fresh one."""
    x = _windows(300, 3, 4)
    fresh = BornMachine(4, 3, steps=8, calibrate=0).fit(x)
    old = BornMachine(4, 3, steps=8, calibrate=0)
    old._resume = {"phase": "lbfgs", "tensors": {f"param.{k}": torch.full_like(torch.as_tensor(getattr(fresh, k)), 9.0)
                                                for k in BornMachine._FITTED if k != "pad_"},
                   "meta": {"lbfgs": {"calls": 1, "done": False}}}
    old.fit(x)
    for k in BornMachine._FITTED:
        np.testing.assert_array_equal(getattr(old, k), getattr(fresh, k))


@pytest.mark.parametrize("kw", [dict(latent="states", latent_nodes=4), dict(latent="states", latent_nodes=3, memory=1)])
def test_a_chi_square_test_finds_the_samples_drawn_from_the_likelihood(kw, chi_square_p):
    """Pearson's chi-square of 200,000 windows against the exact probabilities of all 2^(t n) windows: the sampler
    draws from the very distribution whose likelihood is scored."""
    n, t = 2, 4
    model = BornMachine(n, t, steps=30, seed=1, **kw).fit(_windows(400, t, n))
    every = _all_windows(t, n)
    draws = model.sample(200000, seed=7)
    assert chi_square_p(draws, every, np.exp(model.log_likelihood(every))) > 1e-3
    # and the test can fail: the same windows against a model fitted to other data
    other = BornMachine(n, t, steps=30, seed=1, **kw).fit(_windows(400, t, n, seed=5))
    assert chi_square_p(draws, every, np.exp(other.log_likelihood(every))) < 1e-6


def _graph_nodes(tensor: torch.Tensor) -> list[str]:
    """The names of every node of ``tensor``'s autograd graph."""
    seen, stack, names = set(), [tensor.grad_fn], []
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.append(type(node).__name__)
        stack.extend(next_fn for next_fn, _ in node.next_functions)
    return names


@pytest.mark.parametrize("kw", [dict(latent="states", latent_nodes=4), dict(latent="normal", latent_nodes=3)])
def test_the_forward_algorithm_takes_the_steps_apart_once(kw):
    """Measured at (10, 30) with 48 states: selecting per_step[..., s] step by step made each step's backward fill
    a zero tensor of all the steps, a third of an evaluation; the steps are unbound in one node now."""
    model = BornMachine(3, 12, **kw)
    p = model.resolved_params()
    p["n_timesteps"], p["n_neurons"] = 12, 3
    values = model._initial(_windows(50, 12, 3), p)
    per_step = torch.randn(values["loadings_"].shape[2] if p["latent"] == "states" else 3, 7, 12,
                           dtype=torch.float64, requires_grad=True)
    out = model._forward(per_step, torch.log(torch.full((per_step.shape[0],), 1.0 / per_step.shape[0],
                                                        dtype=torch.float64)), values)
    names = _graph_nodes(out.sum())
    assert names.count("UnbindBackward0") == 1 and "SelectBackward0" not in names


def test_the_memory_term_is_computed_once_for_all_chunks(monkeypatch):
    """The own history's lags once over all windows, not once per chunk (85 chunks x 29 lags were thousands of small
    operations per evaluation at (10, 30)), and the same values either way."""
    import spiqgan.models.born as born

    x = torch.as_tensor(_windows(60, 6, 3), dtype=torch.float64)
    model = BornMachine(3, 6, latent="normal", latent_nodes=2, history=5, memory=1, init_scale=0.3)
    p = model.resolved_params()
    p["n_timesteps"], p["n_neurons"] = 6, 3
    values = model._initial(x.numpy(), p)
    z, _ = model._latent(p)
    calls = []
    original = BornMachine._memory_term
    monkeypatch.setattr(BornMachine, "_memory_term", lambda self, v, w: calls.append(len(w)) or original(self, v, w))
    whole = model._chunked_step_log_probs(values, x, z)
    monkeypatch.setattr(born, "CHUNK_ELEMENTS", 36)  # 10 chunks of 6 windows
    chunked = model._chunked_step_log_probs(values, x, z)
    assert calls == [60, 60]
    torch.testing.assert_close(chunked, whole, rtol=0, atol=0)


def test_a_likelihood_too_large_to_keep_computes_the_memory_term_once_per_pass(monkeypatch):
    """Above KEEP_ELEMENTS the chunks are evaluated again for their gradients: that pass too takes the memory term
    once for all windows (each chunk's slice a leaf), not once per chunk."""
    import spiqgan.models.born as born

    x = _windows(300, 4, 3)
    model = BornMachine(3, 4, latent="normal", latent_nodes=2, history=3, memory=1, init_scale=0.3)
    p = model.resolved_params()
    p["n_timesteps"], p["n_neurons"] = 4, 3
    monkeypatch.setattr(born, "KEEP_ELEMENTS", 10)
    monkeypatch.setattr(born, "CHUNK_ELEMENTS", 48)  # 2 latent values x 4 steps x 3 neurons: 2 windows per chunk
    values = model._initial(x, p)
    trained = {k: v.requires_grad_() for k, v in values.items() if k != "pad_"}
    loss = model._objective(x, p)
    calls = []
    original = BornMachine._memory_term
    monkeypatch.setattr(BornMachine, "_memory_term", lambda self, v, w: calls.append(len(w)) or original(self, v, w))
    loss({**trained, "pad_": values["pad_"]})
    distinct = len(np.unique(x.reshape(len(x), -1), axis=0))
    assert distinct > 2 and calls == [distinct, distinct]
