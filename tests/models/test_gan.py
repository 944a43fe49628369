"""The SpiQGAN estimator: fit, determinism, save/load, resume, presets, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from spiqgan.io.checkpoint import CheckpointError
from spiqgan.quantum.generator import ConfigError
from spiqgan.models.gan import NotFittedError, SpiQGAN
from spiqgan.data.synthetic import retina_like


@pytest.fixture(scope="module")
def windows():
    return retina_like(n_neurons=3, n_repeats=6, repeat_length=200, seed=1).windows(2)


def _metrics(model):
    """The history without wall-clock seconds, NaN (no JS at that step) as None."""
    return [{k: (None if math.isnan(v) else v) for k, v in row.items() if k != "seconds"} for row in model.history_]


def _tiny(**kw):
    return SpiQGAN(3, 2, steps=12, eval_every=5, js_windows=200, **{"objective": "adversarial", "batch_size": 32, **kw})


def test_fit_sample_shapes_and_history(windows):
    m = _tiny().fit(windows)
    assert m.n_steps_ == 12
    assert [row["step"] for row in m.history_] == list(range(13))
    js_steps = [row["step"] for row in m.history_ if not math.isnan(row["js"])]
    assert js_steps == [0, 5, 10, 12]
    assert m.best_step_ in js_steps and m.best_js_ == min(r["js"] for r in m.history_ if r["step"] in js_steps)
    s = m.sample(7, seed=1)
    assert s.shape == (7, 2, 3) and s.dtype == np.uint8
    assert np.array_equal(s, m.sample(7, seed=1))


@pytest.mark.parametrize("estimator", ["relaxation", "straight-through", "reinforce", "exact", "likelihood", "hybrid"])
def test_same_seed_same_run_bit_for_bit(windows, estimator):
    kw = dict(objective=estimator, pretrain_steps=6) if estimator in ("likelihood", "hybrid") else dict(estimator=estimator)
    a = _tiny(seed=3, **kw).fit(windows)
    b = _tiny(seed=3, **kw).fit(windows)
    assert torch.equal(a.generator_.rotations, b.generator_.rotations)
    assert _metrics(a) == _metrics(b)
    c = _tiny(seed=4, **kw).fit(windows)
    assert not torch.equal(a.generator_.rotations, c.generator_.rotations)


def test_save_load_round_trip_and_exact_resume(windows, tmp_path):
    kw = dict(eval_every=5, js_windows=200, seed=2, objective="hybrid", pretrain_steps=5, batch_size=32,
              lr_schedule="constant")
    straight = SpiQGAN(3, 2, steps=20, **kw).fit(windows)
    half = SpiQGAN(3, 2, steps=10, **kw).fit(windows)
    half.save(tmp_path / "half.safetensors")
    loaded = SpiQGAN.load(tmp_path / "half.safetensors")
    assert loaded.get_params() == half.get_params()
    assert torch.equal(loaded.generator_.rotations, half.generator_.rotations)
    assert np.array_equal(loaded.sample(50, seed=0), half.sample(50, seed=0))
    assert np.array_equal(loaded.sample(50, seed=0, which="best"), half.sample(50, seed=0, which="best"))
    # continuing the loaded run gives exactly the uninterrupted run
    loaded.set_params(steps=20).fit(windows, resume=True)
    assert torch.equal(loaded.generator_.rotations, straight.generator_.rotations)
    for name, p in straight.critic_.state_dict().items():
        assert torch.equal(loaded.critic_.state_dict()[name], p)


def test_presets_are_the_papers_settings():
    paper = SpiQGAN.from_preset("paper", 4, 5)
    p = paper.get_params()
    assert (p["noise_scale"], p["noise_layers"], p["init"], p["lr_generator"], p["lr_critic"]) == (1.0, "all", "uniform", 0.05, 0.002)
    assert (p["n_critic"], p["batch_size"], p["k_target"], p["loss"], p["n_ancillas"], p["n_layers"]) == (2, 32, "batch", "k", 1, 5)
    qce = SpiQGAN.from_preset("qce2023", 2, 1).resolved_params()
    assert (qce["model"], qce["batch_size"], qce["lr_generator"], qce["lr_critic"], qce["steps"]) == ("qce2023", 8, 7e-4, 4e-4, 1000)
    assert (qce["critic_hidden"], qce["readout"], qce["estimator"]) == (16, "basis", "relaxation")
    assert SpiQGAN.from_preset("paper", 4, 5, loss="standard").loss == "standard"


def test_qce2023_model_trains(windows):
    m = SpiQGAN.from_preset("qce2023", 3, 2, steps=10, eval_every=5, js_windows=200).fit(windows)
    assert m.sample(5).shape == (5, 2, 3)
    assert all(not math.isnan(r["critic_loss"]) for r in m.history_[1:])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(loss="kk"), "loss must be one of k, standard"),
        (dict(steps=0), "steps must be a positive integer"),
        (dict(lr_generator=-1.0), "lr_generator must be a positive number"),
        (dict(estimator="exact", n_timesteps=5, n_neurons=3, objective="adversarial", batch_size=32), "2\\^15 patterns"),
        (dict(objective="ml"), "objective must be one of adversarial, likelihood, hybrid"),
        (dict(objective="likelihood", readout="threshold"), "needs the generator's outcome probabilities"),
        (dict(model="qce2023", readout="basis", trainable_encoding=False, noise_mixing=False), "objective 'likelihood' needs"),
        (dict(noise_mixing=True, trainable_encoding=False), "needs trainable_encoding=True"),
        (dict(pretrain_steps=-1), "pretrain_steps must be an integer >= 0"),
        (dict(likelihood_block=-1), "likelihood_block must be an integer >= 0"),
        (dict(likelihood_block=1.5), "likelihood_block must be an integer >= 0"),
        (dict(lr_schedule="linear"), "lr_schedule must be one of constant, cosine"),
        (dict(noise_layers="every"), "noise_layers must be one of"),
        (dict(beta1=1.0), "beta1 must lie in"),
    ],
)
def test_bad_hyperparameters(windows, kwargs, match):
    base = dict(n_neurons=3, n_timesteps=2, steps=3)
    base.update(kwargs)
    with pytest.raises(Exception, match=match):
        SpiQGAN(**base).fit(windows if base["n_timesteps"] == 2 else np.zeros((64, 5, 3), np.uint8))


def test_cosine_run_interrupted_and_resumed_is_exact(windows, tmp_path):
    """A run that stops half-way (a crash after a checkpoint) and is resumed gives the uninterrupted run."""
    kw = dict(steps=12, eval_every=3, js_windows=200, seed=5, lr_schedule="cosine", noise_samples=8, batch_size=64)
    straight = SpiQGAN(3, 2, **kw).fit(windows)

    class Crash(Exception):
        pass

    def crash_at_6(model):
        model.save(tmp_path / "ckpt.safetensors")
        if model.n_steps_ == 6:
            raise Crash

    with pytest.raises(Crash):
        SpiQGAN(3, 2, **kw).fit(windows, on_eval=crash_at_6)
    resumed = SpiQGAN.load(tmp_path / "ckpt.safetensors")
    assert resumed.n_steps_ == 6
    resumed.fit(windows, resume=True)
    assert torch.equal(resumed.generator_.encoding_weights, straight.generator_.encoding_weights)
    assert torch.equal(resumed.generator_.rotations, straight.generator_.rotations)
    assert _metrics(resumed) == _metrics(straight)


def test_data_errors(windows):
    with pytest.raises(ConfigError, match="training windows have \\(t, n\\) = \\(2, 3\\), but the model was made for \\(2, 4\\)"):
        SpiQGAN(4, 2, steps=2).fit(windows)
    with pytest.raises(Exception, match="10 windows, but at least 32 are needed"):
        SpiQGAN(3, 2, steps=2, objective="adversarial", batch_size=32).fit(windows[:10])
    assert SpiQGAN(3, 2, steps=2).fit(windows[:10]).n_steps_ == 2  # likelihood batches: drawn with replacement
    with pytest.raises(NotFittedError, match="not trained yet"):
        SpiQGAN(3, 2).sample(3)
    with pytest.raises(ConfigError, match="unknown hyperparameters"):
        SpiQGAN(3, 2).set_params(learning_rate=1)


def test_load_errors(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        SpiQGAN.load(tmp_path / "none.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match="not a readable safetensors checkpoint"):
        SpiQGAN.load(tmp_path / "junk.safetensors")


def test_flipped_bytes_in_a_checkpoint_are_refused(windows, tmp_path):
    """A flipped byte inside the tensor data used to load silently and sample something else."""
    path = SpiQGAN(3, 2, steps=2, eval_every=1, js_windows=50).fit(windows).save(tmp_path / "m.safetensors")
    raw = bytearray(path.read_bytes())
    header_len = int.from_bytes(raw[:8], "little")
    raw[8 + header_len + 5] ^= 0xFF  # inside the first tensor's bytes
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="corrupt: its tensors do not match the SHA-256"):
        SpiQGAN.load(path)


def test_cuda_without_a_gpu_is_a_clear_error(windows):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ConfigError, match="torch sees no CUDA GPU"):
        SpiQGAN(3, 2, steps=2, device="cuda").fit(windows)
    with pytest.raises(ConfigError, match="is not a torch device"):
        SpiQGAN(3, 2, steps=2, device="gpu0").fit(windows)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_training_runs_saves_and_loads(windows, tmp_path):
    # random draws on the GPU come from another generator than on the CPU: the runs differ, so this
    # checks that the GPU run trains, saves, loads exactly and samples
    kw = dict(steps=6, eval_every=3, js_windows=200, seed=5, estimator="exact", dtype="complex128")
    cpu = SpiQGAN(3, 2, **kw).fit(windows)
    gpu = SpiQGAN(3, 2, device="cuda", **kw).fit(windows)
    assert gpu.generator_.rotations.device.type == "cuda"
    gpu.save(tmp_path / "g.safetensors")
    again = SpiQGAN.load(tmp_path / "g.safetensors")
    assert torch.equal(again.generator_.rotations.cpu(), gpu.generator_.rotations.cpu())
    assert gpu.sample(10).shape == cpu.sample(10).shape == (10, 2, 3)


def test_checkpoints_from_before_the_likelihood_objective_still_load(windows, tmp_path):
    """A 0.1 checkpoint has no objective, noise_mixing, lr_schedule...: it loads as the adversarial run it was."""
    from spiqgan.io.checkpoint import load_checkpoint, save_checkpoint

    old = _tiny(noise_scale=0.1, trainable_encoding=False, noise_mixing=False, lr_schedule="constant").fit(windows)
    old.save(tmp_path / "new.safetensors")
    tensors, meta = load_checkpoint(tmp_path / "new.safetensors")
    for key in ("objective", "pretrain_steps", "noise_samples", "noise_mixing", "lr_schedule", "likelihood_block"):
        del meta["params"][key]
    for row in meta["history"]:
        del row["nll"]
    save_checkpoint(tmp_path / "old.safetensors", tensors, meta)
    loaded = SpiQGAN.load(tmp_path / "old.safetensors")
    assert (loaded.objective, loaded.noise_mixing, loaded.lr_schedule) == ("adversarial", False, "constant")
    assert np.array_equal(loaded.sample(50, seed=0), old.sample(50, seed=0))
    assert math.isnan(loaded.history_[-1]["nll"])


def test_preview_times_a_step_without_changing_the_fit():
    x = (np.random.default_rng(0).random((200, 2, 3)) < 0.2).astype(np.uint8)
    kw = dict(n_layers=2, steps=3, batch_size=16, noise_samples=8, eval_every=3, js_windows=100)
    plain = SpiQGAN(3, 2, **kw).fit(x)
    previewed = SpiQGAN(3, 2, **kw)
    preview = previewed.preview(x)
    assert preview["parameters"] == previewed.count_parameters() and preview["seconds_per_step"] > 0
    previewed.fit(x)
    assert [r["nll"] for r in previewed.history_] == [r["nll"] for r in plain.history_]
