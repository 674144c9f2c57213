"""Shared computations for deep-learning exams: import them in a compute block.

    from dlcalc import conv_output_size, conv_params

Every function is small, exact for integer inputs, and named after what a
sample solution calculates, so that the exam states no number by hand.
"""

from __future__ import annotations

import math
from typing import Sequence


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


# --- added for the 2021 endterm ---
