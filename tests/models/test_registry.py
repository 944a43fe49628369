"""The registry: names to classes, options and their help, building from sources, loading old checkpoints."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from spiqgan.exceptions import DataError
from spiqgan.models.base import ModelConfigError
from spiqgan.models.registry import (BORN_MODELS, MODEL_NAMES, MODELS, build_model, hyperparameters, load_model,
                                     make_model, model_class, model_params, model_spec, option_choices,
                                     option_help)
from spiqgan.quantum.families import FAMILIES


def _windows(t: int = 2, n: int = 3, count: int = 100) -> np.ndarray:
    return (np.random.default_rng(0).random((count, t, n)) < 0.3).astype(np.uint8)


def test_every_family_is_a_born_machine_and_every_name_a_class():
    assert BORN_MODELS == tuple(FAMILIES)
    assert MODEL_NAMES == tuple(MODELS)
    for name in MODEL_NAMES:
        assert model_class(name)._accepts(name)
    with pytest.raises(ModelConfigError, match="unknown model 'boltzmann'; expected one of spiqgan"):
        model_class("boltzmann")


def test_help_is_read_from_the_docstrings_without_markup():
    docs = option_help()
    assert set(hyperparameters()) <= set(docs)
    assert docs["latent_dim"] == "d, dimensions of the normal latent (0: none, for either kind)"
    assert docs["noise_scale"].startswith("s: gamma ~ U[0, s pi]")
    for text in docs.values():
        assert "``" not in text and ":math:" not in text and ":class:" not in text
    assert option_choices()["couplings"] == ("shared", "per_step")
    assert option_choices()["latent"] == ("normal", "states")
    assert option_choices()["loss"] == ("k", "standard")


def test_model_spec_takes_defaults_then_preset_then_config_then_overrides(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('model = "spiqgan"\npreset = "paper"\nbatch-size = 64\nsteps = 7\n')
    spec = model_spec(config=config, steps=None, lr_generator=0.3)
    assert (spec.name, spec.preset) == ("spiqgan", "paper")
    model = spec.build(3, 2)
    assert model.batch_size == 64  # the config over the preset's 32
    assert model.steps == 7 and model.lr_generator == 0.3  # None: not given
    assert model.n_critic == 2 and model.lr_critic == 0.002  # the paper's
    assert model_spec("cry", config=config).name == "cry"  # a name given beats the config's
    assert model_spec().name == "cry" and model_spec(preset="qce2023").name == "spiqgan"
    assert build_model(3, 2, "iqp", latent_dim=2).latent_dim == 2
    assert model_spec(config={"model": "dg", "temporal": False}).build(3, 2).temporal is False


@pytest.mark.parametrize("kw, error, match", [
    (dict(config={"latent-dims": 2}), DataError, "unknown hyperparameter 'latent-dims'; known: "),
    (dict(latentdim=2), ModelConfigError, "unknown hyperparameters"),
    (dict(name="ising", n_layers=2), ModelConfigError, "model 'ising' does not take 'n_layers'"),
    (dict(name="dg", preset="paper"), ModelConfigError, "takes none"),
])
def test_model_spec_errors_are_clear(kw, error, match):
    name = kw.pop("name", None)
    with pytest.raises(error, match=match):
        model_spec(name, **kw).build(3, 1)


def test_a_config_file_names_itself_in_its_errors(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("n_layer = 2\n")
    with pytest.raises(DataError, match="bad.toml: unknown hyperparameter 'n_layer'"):
        model_spec(config=config)


def test_make_model_errors_are_clear():
    with pytest.raises(ModelConfigError, match="does not take 'n_layers'"):
        make_model("ising", 3, 1, n_layers=2)
    with pytest.raises(ModelConfigError, match="unknown model 'boltzmann'"):
        make_model("boltzmann", 3, 1)
    with pytest.raises(ModelConfigError, match="takes none"):
        make_model("dg", 3, 1, preset="paper")
    with pytest.raises(ModelConfigError, match="size must be"):
        make_model("wgan-mlp", 3, 1, size=0).fit(_windows(1, 3, 10))
    with pytest.raises(ModelConfigError, match=r"\(t, n\) = \(1, 3\)"):
        make_model("dg", 4, 1).fit(_windows(1, 3, 10))
    assert "preset" in model_params("spiqgan") and "temporal" in model_params("dg")


def test_make_model_builds_spiqgan_with_its_presets():
    from spiqgan.models.gan import SpiQGAN

    m = make_model("spiqgan", 3, 2, preset="paper")
    assert isinstance(m, SpiQGAN) and m.batch_size == 32
    assert make_model("qce2023", 3, 1, preset="qce2023").model == "qce2023"
    assert make_model("spiqgan", 3, 1, preset="qce2023").model == "qce2023"


def test_checkpoints_store_the_name_and_old_ones_still_load(tmp_path):
    """Before the models stage, Born machines were saved as "classical_model" without their family."""
    from spiqgan.io.checkpoint import load_checkpoint, save_checkpoint

    model = make_model("iqp", 3, 2, steps=2, latent_nodes=3).fit(_windows())
    tensors, meta = load_checkpoint(model.save(tmp_path / "new.safetensors"))
    assert meta["model"] == "iqp" and meta["params"]["family"] == "iqp"
    params = {k: v for k, v in meta["params"].items() if k != "family"}
    old = save_checkpoint(tmp_path / "old.safetensors", tensors,
                          {"classical_model": "iqp", "params": params, "history": meta["history"]})
    again = load_model(old)
    assert again.name == "iqp" and again.family == "iqp"
    np.testing.assert_array_equal(again.sample(20, seed=1), model.sample(20, seed=1))
    with pytest.raises(ModelConfigError, match="holds a model 'iqp', not a SpiQGAN"):
        model_class("spiqgan").load(old)


TOY_FAMILY = '''
"""A toy family for the registry test: independent RY rotations, no couplings in use."""
import numpy as np
import torch

from spiqgan.quantum.circuit import Angle, latent_terms
from spiqgan.quantum.families.base import CircuitFamily, pattern_bits


class Toy(CircuitFamily):
    name = "toy"
    title = "product"
    max_neurons = 8

    def distribution(self, theta, pairs):
        bits = pattern_bits(theta.shape[-1], theta.dtype)
        p1 = torch.sin(theta)[..., None, :] ** 2
        return torch.where(bits == 1, p1, 1 - p1).prod(-1)

    def add_step(self, circuit, s, v, register, latent, earlier):
        n = v["angles_"].shape[1]
        for j in range(n):
            circuit.add("ry", j, angle=Angle(float(v["angles_"][s, j]), latent_terms(v["loadings_"][s, j], latent)).scaled(2.0))
        for j in range(n):
            circuit.add("measure", j, bit=(register, j))
'''


def test_a_new_family_is_one_module_and_one_registry_line(tmp_path):
    """The toy family in its own module, registered by one line: it is a model (fit, sample, likelihood, export)."""
    (tmp_path / "toy_family.py").write_text(TOY_FAMILY)
    script = textwrap.dedent('''
        import itertools, numpy as np
        import spiqgan.quantum.families as families
        families.FAMILIES["toy"] = "toy_family:Toy"  # the one line (in spiqgan/quantum/families/__init__.py)
        from spiqgan.models.registry import MODEL_NAMES, load_model, make_model
        from spiqgan.hardware.circuits import circuits_of
        assert "toy" in MODEL_NAMES
        x = (np.random.default_rng(0).random((300, 2, 3)) < 0.3).astype(np.uint8)
        model = make_model("toy", 3, 2, steps=5, latent_nodes=3).fit(x)
        every = np.array(list(itertools.product([0, 1], repeat=6)), dtype=np.uint8).reshape(-1, 2, 3)
        assert abs(np.exp(model.log_likelihood(every)).sum() - 1) < 1e-10
        assert model.sample(10, seed=0).shape == (10, 2, 3)
        again = load_model(model.save("toy.safetensors"))
        assert again.family == "toy" and (again.sample(10, seed=0) == model.sample(10, seed=0)).all()
        ops = {op.name for c in circuits_of(model).circuits for op in c.ops}
        assert ops == {"ry", "measure"}, ops
        try:
            make_model("toy", 9, 1).fit(np.zeros((5, 1, 9), dtype=np.uint8))
        except Exception as exc:
            assert "more than 8 neurons" in str(exc), exc
        else:
            raise AssertionError("9 neurons were accepted")
        print("ok")
    ''')
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_the_top_level_names_still_import():
    """``from spiqgan import ...`` is unchanged by the move into spiqgan.models (each name of __all__ resolves)."""
    import spiqgan
    from spiqgan import SpiQGAN  # lazily, from spiqgan.models.gan

    assert SpiQGAN is spiqgan.SpiQGAN is model_class("spiqgan")
    for name in spiqgan.__all__:
        assert getattr(spiqgan, name) is not None
    import spiqgan.models as models

    assert models.BornMachine is model_class("cry") and models.IndependentBernoulli is model_class("bernoulli")
