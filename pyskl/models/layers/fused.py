"""Fused 1x1 convolution + BatchNorm for the fast DG-STGCN layers.

Several 1x1 convolutions of DG-GCN and DG-TCN read the same input. ``conv_bn`` runs them as
one convolution on their weights concatenated at forward time; BatchNorm is per channel, so one
``batch_norm`` over the concatenated channels computes the same as one per convolution. In
``eval()`` each BatchNorm is folded into the weights of the convolution before it, so no
normalisation runs at all. The modules and their parameters are untouched: the state dict is the
same whichever path runs.
"""
import torch
import torch.nn.functional as F
from torch import nn


def plain_bn(module) -> bool:
    """True for a ``BatchNorm2d`` (not Sync/Instance norm) the fused path can compute."""
    return type(module) is nn.BatchNorm2d and module.affine and module.track_running_stats


def use_fast(fast: bool, x: torch.Tensor) -> bool:
    """The fast path runs in float precision only: under autocast (bfloat16 on CPU) it measured
    slower than the reference path (tools/benchmarks/model_speed.py --amp: training x0.40)."""
    return fast and not torch.is_autocast_enabled(x.device.type)


def bn_scale_shift(bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode BatchNorm as ``x * scale + shift``."""
    scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
    return scale, bn.bias - bn.running_mean * scale


def _momentum(bn: nn.BatchNorm2d) -> float:
    """The running-average factor ``nn.BatchNorm2d.forward`` would use for this step."""
    if bn.momentum is None:  # cumulative moving average
        return 1.0 / float(bn.num_batches_tracked + 1)
    return bn.momentum


def conv_bn(x: torch.Tensor, parts, training: bool, stride: int = 1) -> list[torch.Tensor]:
    """``[bn(conv(x)) for conv, bn in parts]`` as one convolution (the outputs are channel slices of it).

    ``parts``: ``(conv, bn)`` pairs of 1x1 convolutions reading ``x``; ``bn`` may be None (no
    norm) only after every pair that has one, since the normed channels must come first.
    """
    weights, biases, bns = [], [], []
    for conv, bn in parts:
        w, b = conv.weight, conv.bias if conv.bias is not None else conv.weight.new_zeros(conv.out_channels)
        if bn is not None and not training:  # BN folded into the conv in eval
            scale, shift = bn_scale_shift(bn)
            w, b = w * scale[:, None, None, None], b * scale + shift
        elif bn is not None:
            bns.append(bn)
        weights.append(w)
        biases.append(b)
    # one GEMM for every convolution reading x: weights concatenated at forward time
    weight, bias = (torch.cat(weights), torch.cat(biases)) if len(parts) > 1 else (weights[0], biases[0])
    y = F.conv2d(x, weight, bias, stride=(stride, 1))
    if bns:
        normed = sum(bn.num_features for bn in bns)
        if normed == y.shape[1]:
            y = batch_norm_train(y, bns)
        else:
            y = torch.cat([batch_norm_train(y[:, :normed], bns), y[:, normed:]], 1)
    return list(y.split([conv.out_channels for conv, _ in parts], 1)) if len(parts) > 1 else [y]


def batch_norm_train(x: torch.Tensor, bns) -> torch.Tensor:
    """Training-mode BatchNorm of ``x``'s channels, the first ``bns[0].num_features`` by
    ``bns[0]`` and so on: one ``batch_norm`` call; the running statistics go back to each module."""
    if len(bns) == 1:
        return bns[0](x)
    momentum = {_momentum(bn) for bn in bns}
    eps = {bn.eps for bn in bns}
    if len(momentum) > 1 or len(eps) > 1:  # differently configured norms: one call each
        sizes = [bn.num_features for bn in bns]
        return torch.cat([bn(part) for bn, part in zip(bns, x.split(sizes, 1))], 1)
    # one BN over the concatenated channels: BatchNorm is per channel
    mean = torch.cat([bn.running_mean for bn in bns])
    var = torch.cat([bn.running_var for bn in bns])
    y = F.batch_norm(x, mean, var, torch.cat([bn.weight for bn in bns]), torch.cat([bn.bias for bn in bns]),
                     True, momentum.pop(), eps.pop())
    with torch.no_grad():
        start = 0
        for bn in bns:
            end = start + bn.num_features
            bn.running_mean.copy_(mean[start:end])
            bn.running_var.copy_(var[start:end])
            bn.num_batches_tracked.add_(1)
            start = end
    return y
