"""A hardware-efficient ansatz from PennyLane's templates, as the circuit of a spiqgan Born machine.

    spiqgan train --data recording_40_neurons.mat --repeat-length 953 --neurons 0-3 --timesteps 5 \\
        --model examples/hardware_efficient.py:circuit --out runs/hea

What spiqgan asks of a circuit (``spiqgan.quantum.families.user``): neuron ``j`` is wire ``j`` (wires after
the neurons would be ancillas, never read out); ``inputs`` holds one angle per neuron, which spiqgan computes
(the neuron's trainable angle at the step, plus the latent state's loading, plus the memory), ``weights`` are
the circuit's own parameters, of the shape ``circuit.weight_shape``; it returns the neurons' probabilities.
"""

import pennylane as qml

N = 4  # neurons: the qubits 0..N-1 (set it to the number of neurons you select)
LAYERS = 2

dev = qml.device("default.qubit", wires=N)


@qml.qnode(dev, interface="torch")
def circuit(inputs, weights):
    for j in range(N):  # spiqgan's input angles (a batch of them: inputs[..., j])
        qml.RY(inputs[..., j], wires=j)
    # then LAYERS layers of CZ entanglers and RY pairs (the template's own first RY layer left at 0, as the
    # inputs do it); at weights 0 the CZs only add phases, so the circuit starts as the independent model
    qml.SimplifiedTwoDesign(initial_layer_weights=[0.0] * N, weights=weights, wires=range(N))
    return qml.probs(wires=range(N))


circuit.weight_shape = qml.SimplifiedTwoDesign.shape(n_layers=LAYERS, n_wires=N)[1]
