r"""The built-in default dataset: a seeded, retina-like synthetic population.

It lets every command run with no data file (``--data`` left out). It is a
demo: the results that matter come from the salamander retina recording
(Marre et al. 2017, ``bint_fishmovie32_100.mat``; see the README).

How it is generated
-------------------
A hidden binary *network state* :math:`g_{r,s} \in \{0, 1\}` (quiet / active)
drives all neurons in repeat :math:`r` and bin :math:`s`. It is the logical OR
of

* a **stimulus-locked** two-state Markov chain :math:`m_s`, drawn once and
  shared by every repeat (the same "movie" each time), and
* a **spontaneous** Markov chain :math:`u_{r,s}`, drawn anew for each repeat.

Both chains switch on with probability ``p_on`` per bin (the spontaneous one
with ``p_on / 3``) and stay on with probability ``p_stay``, so an active
episode lasts :math:`1 / (1 - p_{stay})` bins on average (4 by default):
bursts that span several 20 ms bins. Neuron :math:`i` then spikes
independently with probability

.. math:: P(x_{r,s,i} = 1 \mid g) = b_i \, (1 + (\gamma_i - 1)\, g_{r,s}),

with a gain :math:`\gamma_i \sim U[10, 30]` and a base :math:`b_i` chosen so that
the neuron's mean firing probability equals a target :math:`\rho_i` drawn
log-normally around ``rate`` (0.04 per bin by default, about 2 spikes/s;
clipped to [0.005, 0.2]). The shared state gives positive pairwise
covariances, the persistence of the state positive autocorrelations at
short lags.
"""

from __future__ import annotations

import numpy as np

from spiqgan.data.raster import DEFAULT_BIN_MS, SpikeRaster
from spiqgan.exceptions import DataError

__all__ = ["retina_like", "DEFAULT_SYNTHETIC"]

#: parameters of the built-in default dataset
DEFAULT_SYNTHETIC = dict(n_neurons=16, n_repeats=60, repeat_length=953, seed=0)


def _markov_chain(rng: np.random.Generator, shape: tuple[int, int], p_on: float, p_stay: float) -> np.ndarray:
    """Binary two-state Markov chains along the last axis, started from the stationary law."""
    n_chains, n_steps = shape
    u = rng.random((n_chains, n_steps))
    state = np.empty((n_chains, n_steps), dtype=bool)
    stationary = p_on / (p_on + 1.0 - p_stay)
    state[:, 0] = u[:, 0] < stationary
    for s in range(1, n_steps):
        state[:, s] = np.where(state[:, s - 1], u[:, s] < p_stay, u[:, s] < p_on)
    return state


def retina_like(
    n_neurons: int = 16,
    n_repeats: int = 60,
    repeat_length: int = 953,
    *,
    rate: float = 0.04,
    p_on: float = 0.02,
    p_stay: float = 0.75,
    bin_ms: float = DEFAULT_BIN_MS,
    seed: int | np.random.Generator = 0,
) -> SpikeRaster:
    """A seeded synthetic population with retina-like statistics (see the module docstring).

    Parameters
    ----------
    n_neurons, n_repeats, repeat_length
        Size of the raster: ``n_repeats * repeat_length`` bins of ``n_neurons``.
    rate
        Median target firing probability per bin.
    p_on, p_stay
        Switch-on and stay-on probabilities of the network-state chains.
    seed
        Seed or ``numpy.random.Generator``; the same seed gives the same raster.

    Returns
    -------
    SpikeRaster
        ``source`` is ``"synthetic"``.
    """
    for name, value in (("n_neurons", n_neurons), ("n_repeats", n_repeats), ("repeat_length", repeat_length)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise DataError(f"{name} must be a positive integer, got {value!r}.")
    if not (0 < rate < 0.5):
        raise DataError(f"rate must lie in (0, 0.5), got {rate!r}.")
    if not (0 < p_on < 1 and 0 <= p_stay < 1):
        raise DataError(f"p_on must lie in (0, 1) and p_stay in [0, 1), got {p_on!r}, {p_stay!r}.")
    rng = np.random.default_rng(seed)
    stimulus = _markov_chain(rng, (1, repeat_length), p_on, p_stay)
    spontaneous = _markov_chain(rng, (n_repeats, repeat_length), p_on / 3.0, p_stay)
    state = (stimulus | spontaneous).astype(np.float64)  # (n_repeats, repeat_length)
    gain = rng.uniform(10.0, 30.0, size=n_neurons)
    target = np.clip(rate * np.exp(0.5 * rng.standard_normal(n_neurons)), 0.005, 0.2)
    active = state.mean()
    base = target / (1.0 + (gain - 1.0) * active)
    prob = base * (1.0 + (gain - 1.0) * state[..., None])  # (n_repeats, repeat_length, n_neurons)
    spikes = (rng.random(prob.shape) < np.minimum(prob, 1.0)).astype(np.uint8)
    return SpikeRaster(
        spikes.reshape(n_repeats * repeat_length, n_neurons),
        repeat_length=repeat_length, bin_ms=bin_ms, source="synthetic",
    )
