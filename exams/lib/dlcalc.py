"""Shared computations for deep-learning exams: import them in a compute block.

    from dlcalc import conv_output_size, conv_params

Every function is small, exact for integer inputs, and named after what a
sample solution calculates, so that the exam states no number by hand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Spatial output size of a convolution or pooling: floor((n + 2p - d(k-1) - 1) / s) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def transposed_conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Spatial output size of a transposed convolution: (n - 1)s - 2p + k."""
    return (size - 1) * stride - 2 * padding + kernel


def conv_params(in_channels: int, out_channels: int, kernel: int | tuple[int, int], bias: bool = True) -> int:
    """Trainable parameters of a 2-D convolution layer."""
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    return in_channels * kh * kw * out_channels + (out_channels if bias else 0)


def filter_params(in_channels: int, kernel: int | tuple[int, int], bias: bool = True) -> int:
    """Parameters of a single convolution filter (one output channel)."""
    return conv_params(in_channels, 1, kernel, bias)


def linear_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Trainable parameters of a fully-connected layer."""
    return n_in * n_out + (n_out if bias else 0)


def mlp_params(sizes: Sequence[int]) -> tuple[int, int]:
    """(weights, biases) of a fully-connected network with layer sizes [input, hidden..., output]."""
    weights = sum(a * b for a, b in zip(sizes, sizes[1:]))
    return weights, sum(sizes[1:])


def batchnorm_params(features: int) -> int:
    """Learnable parameters of a batch-norm layer: one gamma and one beta per feature/channel."""
    return 2 * features


def batchnorm_running_stats(channels: int) -> int:
    """Values held by the running mean and running variance of a batch-norm layer."""
    return 2 * channels


def receptive_fields(layers: Sequence[tuple[int, int]]) -> list[int]:
    """Receptive field after each layer, for layers given as (kernel, stride).

    r_1 = f_1 and r_k = r_{k-1} + (prod_{i<k} s_i) * (f_k - 1).
    """
    fields, jump = [], 1
    for kernel, stride in layers:
        fields.append((fields[-1] if fields else 1) + jump * (kernel - 1))
        jump *= stride
    return fields


def sizes_through(size: int, layers: Sequence[tuple[int, int, int]]) -> list[int]:
    """Spatial sizes after each (kernel, stride, padding) layer, starting with the input size."""
    sizes = [size]
    for kernel, stride, padding in layers:
        sizes.append(conv_output_size(sizes[-1], kernel, stride, padding))
    return sizes


def same_padding(kernel: int) -> int:
    """Padding that keeps the spatial size for an odd kernel with stride 1."""
    return (kernel - 1) // 2


def leaky_relu(x: float, alpha: float) -> float:
    return x if x >= 0 else alpha * x


def leaky_relu_grad(x: float, alpha: float) -> float:
    return 1.0 if x > 0 else alpha


def dense(inputs: Sequence[float], weights: Sequence[Sequence[float]], biases: Sequence[float]) -> list[float]:
    """Outputs of a fully-connected layer; weights[i][j] connects input i to output j."""
    return [sum(x * w[j] for x, w in zip(inputs, weights)) + b for j, b in enumerate(biases)]


def mse(predictions: Sequence[float], targets: Sequence[float]) -> float:
    """Mean squared error over the outputs."""
    return sum((p - t) ** 2 for p, t in zip(predictions, targets)) / len(targets)


def sgd_step(weight: float, gradient: float, learning_rate: float) -> float:
    return weight - learning_rate * gradient


def bce_untrained() -> float:
    """Expected binary cross entropy of an untrained network that predicts 0.5: -log(0.5)."""
    return -math.log(0.5)


def softmax(logits: Sequence[float]) -> list[float]:
    peak = max(logits)
    exps = [math.exp(z - peak) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


# --- added for the 2022 endterm ---

def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def activate(z: float, kind) -> tuple[float, float]:
    """Value and slope of an activation at z.

    kind: "identity", "relu", "sigmoid", "tanh", or ("leaky_relu", alpha).
    """
    name, param = (kind, None) if isinstance(kind, str) else (kind[0], kind[1])
    if name == "identity":
        return z, 1.0
    if name == "relu":
        return max(z, 0.0), (1.0 if z > 0 else 0.0)
    if name == "leaky_relu":
        return leaky_relu(z, param), leaky_relu_grad(z, param)
    if name == "sigmoid":
        s = sigmoid(z)
        return s, s * (1.0 - s)
    if name == "tanh":
        t = math.tanh(z)
        return t, 1.0 - t * t
    raise ValueError(f"unknown activation {kind!r}")


def forward_pass(x: Sequence[float], layers) -> list[dict]:
    """Forward pass through fully-connected layers, each (weights, biases, activation)
    with weights[i][j] connecting input i to output j (as in `dense`).

    Returns one record per layer: its "input", the pre-activations "pre", the
    activations "post" and the activation's "slope" at "pre".
    """
    trace = []
    for weights, biases, kind in layers:
        pre = dense(x, weights, biases)
        post, slope = zip(*(activate(z, kind) for z in pre))
        trace.append({"input": list(x), "pre": pre, "post": list(post), "slope": list(slope)})
        x = list(post)
    return trace


def backward_pass(layers, trace: list[dict], dout: Sequence[float]):
    """Backpropagation through the layers of `forward_pass`, from dout = dL/d(network output).

    Returns (grads, dx): grads[l] = (dW, db) of layer l, shaped like its weights and
    biases, and dx = dL/d(network input).
    """
    grads = []
    for (weights, _, _), record in zip(reversed(layers), reversed(trace)):
        dpre = [d * s for d, s in zip(dout, record["slope"])]
        dw = [[xi * d for d in dpre] for xi in record["input"]]
        dout = [sum(w_ij * d for w_ij, d in zip(row, dpre)) for row in weights]
        grads.append((dw, dpre))
    grads.reverse()
    return grads, dout


def mse_grad(predictions: Sequence[float], targets: Sequence[float]) -> list[float]:
    """dL/d(prediction) of `mse` (the mean over the outputs): 2 (p - t) / k."""
    return [2 * (p - t) / len(targets) for p, t in zip(predictions, targets)]


def bce(predictions: Sequence[float], targets: Sequence[float]) -> float:
    """Binary cross entropy, averaged over the outputs."""
    return -sum(t * math.log(p) + (1 - t) * math.log(1 - p) for p, t in zip(predictions, targets)) / len(targets)


def bce_grad(predictions: Sequence[float], targets: Sequence[float]) -> list[float]:
    """dL/d(prediction) of `bce`."""
    return [(p - t) / (p * (1 - p)) / len(targets) for p, t in zip(predictions, targets)]


LOSSES = {"mse": (mse, mse_grad), "bce": (bce, bce_grad)}


def sgd_train(x: Sequence[float], targets: Sequence[float], layers, loss: str, learning_rate: float, steps: int):
    """Plain SGD on one sample fed `steps` times through fully-connected layers.

    Returns (history, losses): history[s] is the list of layers (weights, biases,
    activation) after s steps (history[0] is the start), losses[s] the loss before step s+1.
    """
    value, grad = LOSSES[loss]
    layers = [([list(r) for r in w], list(b), kind) for w, b, kind in layers]
    history, losses = [layers], []
    for _ in range(steps):
        trace = forward_pass(x, layers)
        output = trace[-1]["post"]
        losses.append(value(output, targets))
        grads, _ = backward_pass(layers, trace, grad(output, targets))
        layers = [([[sgd_step(w_ij, g_ij, learning_rate) for w_ij, g_ij in zip(wr, gr)] for wr, gr in zip(w, dw)],
                   [sgd_step(b_j, g_j, learning_rate) for b_j, g_j in zip(b, db)], kind)
                  for (w, b, kind), (dw, db) in zip(layers, grads)]
        history.append(layers)
    return history, losses


def constant_layers(sizes: Sequence[int], value: float, activations: Sequence, bias: float = 0.0):
    """Fully-connected layers [input, hidden..., output] with every weight set to `value`."""
    return [([[value] * b for _ in range(a)], [bias] * b, kind)
            for a, b, kind in zip(sizes, sizes[1:], activations)]


def possible_sums(first: Sequence[int] = range(10), second: Sequence[int] = range(10)) -> list[int]:
    """The distinct sums a + b (e.g. of two digits: 0 ... 18, i.e. 19 classes)."""
    return sorted({a + b for a in first for b in second})


def pairs_with_sum(total: int, first: Sequence[int] = range(10), second: Sequence[int] = range(10)) -> int:
    """How many ordered pairs (a, b) have a + b == total."""
    return sum(1 for a in first for b in second if a + b == total)


def conv_as_linear(size: int, neurons: int) -> dict:
    """A convolution that acts as a fully-connected layer on a size x size input:
    one filter per neuron, covering the whole input, no padding, stride 1."""
    spec = {"filters": neurons, "kernel": size, "stride": 1, "padding": 0}
    spec["out_size"] = conv_output_size(size, spec["kernel"], spec["stride"], spec["padding"])
    return spec


def flat_features(channels: int, height: int, width: int | None = None) -> int:
    """Length of a C x H x W feature map after Flatten."""
    return channels * height * (height if width is None else width)


# --- added for the 2021 endterm ---

def transposed_sizes_through(size: int, layers: Sequence[tuple[int, int, int]]) -> list[int]:
    """Spatial sizes after each (kernel, stride, padding) transposed convolution, starting with the input size."""
    sizes = [size]
    for kernel, stride, padding in layers:
        sizes.append(transposed_conv_output_size(sizes[-1], kernel, stride, padding))
    return sizes


def cross_entropy(probs: Sequence[float], target: int) -> float:
    """Cross entropy -log p_target of a predicted distribution for a one-hot label (0-based target index)."""
    return -math.log(probs[target])


def softmax_jacobian(probs: Sequence[float]) -> list[list[float]]:
    """d softmax_i / d z_j = p_i (delta_ij - p_j), written with the softmax outputs p only."""
    return [[p_i * ((1.0 if i == j else 0.0) - p_j) for j, p_j in enumerate(probs)] for i, p_i in enumerate(probs)]


def numeric_derivative(f, x: float, eps: float = 1e-6) -> float:
    """Central finite difference (f(x + eps) - f(x - eps)) / 2 eps, to check a derivation."""
    return (f(x + eps) - f(x - eps)) / (2 * eps)
