"""An independent implementation of both generator circuits in PennyLane (default.qubit), for tests.

Written from the circuit descriptions in the issue, one QNode call per sample
and sub-generator, as public patch-GAN code does; it shares no code with spiqgan.
"""

from __future__ import annotations


import pennylane as qml
import torch


def reference_outputs(config, rotations, encoding_weights, noise, n_timesteps):
    """Per-sample, per-time-step outputs of the circuit, as spiqgan's GeneratorOutput defines them.

    Returns ``(batch, t, 2**n)`` distributions for the SpiQGAN circuit, or
    ``(batch, t, n)`` QCE activations.
    """
    q = config.n_qubits
    dev = qml.device("default.qubit", wires=q)
    qce = config.architecture == "qce2023"
    n_feat = config.n_feature_qubits

    @qml.qnode(dev, interface="torch", diff_method="backprop")
    def circuit(gamma, rot, w):
        for layer in range(config.n_layers):
            noisy = layer == 0 or (config.noise_layers == "all" and not qce)
            for j in range(q):
                if noisy:
                    # noise mixing: w[layer] is a (q, q) matrix, the angle a combination of all components
                    angle = (w[layer, j] * gamma).sum() if w.dim() == 3 else w[layer, j] * gamma[j]
                    if qce:
                        qml.RY(angle, wires=j)
                    else:
                        qml.RX(angle, wires=j)
                qml.RY(rot[layer, j, 0], wires=j)
                qml.RZ(rot[layer, j, 1], wires=j)
            for j in range(q - 1):
                qml.CNOT(wires=[j, j + 1])
        if qce:
            return qml.probs(wires=range(q))
        return qml.probs(wires=range(n_feat))

    batch = noise.shape[0]
    rows = []
    for b in range(batch):
        per_t = []
        for t in range(n_timesteps):
            gamma = noise[b] if noise.dim() == 2 else noise[b, t]
            p = circuit(gamma, rotations[t], encoding_weights[t])
            if qce:
                a = config.n_ancillas
                # ancilla = last qubits; keep the outcomes where they read 0, renormalize
                cond = torch.stack([p[k * 2**a] for k in range(2**n_feat)])
                cond = cond / cond.sum()
                p = torch.sigmoid(cond[: config.n_neurons] - 1.0 / 2**n_feat)
            per_t.append(p)
        rows.append(torch.stack(per_t))
    return torch.stack(rows)
