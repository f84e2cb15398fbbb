"""CTR-GC: channel-wise topology refinement graph convolution (CTR-GCN, Chen et al., ICCV 2021).

Per subset ``k`` of the graph, every output channel gets its own graph: the shared, trainable
``A[k]`` plus a refinement computed from the input,

    graph[n, c, i, j] = A[k, i, j] + alpha * conv4(tanh(x1[n, :, i] - x2[n, :, j]))[c]

where ``x1 = conv1(x)`` and ``x2 = conv2(x)`` are reduced embeddings averaged over time, ``i`` the
joint that sends and ``j`` the one that receives. The graph aggregates ``conv3(x)`` from the right,
over the joint axis: ``y[n, c, t, j] = sum_i conv3(x)[n, c, t, i] * graph[n, c, i, j]``.
:class:`UnitCTRGCN` sums the subsets, then BatchNorm, plus ``down(x)``, then ReLU.

Attribute names (``A``, ``alpha``, ``convs.<k>.conv1`` ... ``conv4``, ``down``, ``bn``) are the
original PYSKL's: released checkpoints depend on them.

Two implementations compute the same (``impl``, as DG-GCN's): ``'reference'`` is the statement
above, the oracle the tests compare against; ``'fast'`` (the default) reorders the work (tricks
named where they are) with the same parameters and state dict.
"""
from types import SimpleNamespace

import torch
from torch import nn

from .fused import (act_, add_, batch_norm, check_impl, conv_bn, from_channel_major, fused_norms, summed_aggregation,
                    to_channel_major)
from .init import init_convs_and_norms


def relation_channels(in_channels: int, reduction: int = 8) -> int:
    """Channels of the reduced embeddings ``conv1``/``conv2``: 8 for an input of at most 16
    channels (the raw joints), else ``in_channels // reduction``."""
    return 8 if in_channels <= 16 else in_channels // reduction


def stacked_conv(convs) -> SimpleNamespace:
    """1x1 convolutions that read the same input as one, for ``fused.conv_bn``: weights and biases
    concatenated at forward time (so the gradients reach each), one output tensor."""
    return SimpleNamespace(weight=torch.cat([conv.weight for conv in convs]),
                           bias=torch.cat([conv.bias for conv in convs]),
                           in_channels=convs[0].in_channels, out_channels=sum(conv.out_channels for conv in convs))


class CTRGC(nn.Module):
    """One subset's channel-wise graph convolution (see the module docstring); the graph ``A`` and
    the scale ``alpha`` are the unit's, passed in."""

    def __init__(self, in_channels: int, out_channels: int, rel_reduction: int = 8):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.rel_channels = relation_channels(in_channels, rel_reduction)
        self.conv1 = nn.Conv2d(in_channels, self.rel_channels, kernel_size=1)
        self.conv2 = nn.Conv2d(in_channels, self.rel_channels, kernel_size=1)
        self.conv3 = nn.Conv2d(in_channels, out_channels, kernel_size=1)
        self.conv4 = nn.Conv2d(self.rel_channels, out_channels, kernel_size=1)

    def channel_graphs(self, x: torch.Tensor, A: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """``A`` refined per sample and channel: ``(N, C_out, V, V)``, indexed (sender, receiver)."""
        x1 = self.conv1(x).mean(-2)  # N, R, T, V -> N, R, V
        x2 = self.conv2(x).mean(-2)
        relation = torch.tanh(x1.unsqueeze(-1) - x2.unsqueeze(-2))  # N, R, V (sender), V (receiver)
        return self.conv4(relation) * alpha + A

    def forward(self, x: torch.Tensor, A: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        graphs = self.channel_graphs(x, A, alpha)
        return torch.einsum('nctv,ncvw->nctw', self.conv3(x), graphs)  # aggregated over senders v


class UnitCTRGCN(nn.Module):
    """CTR-GCN's spatial unit: the :class:`CTRGC` of every subset summed, BatchNorm, plus ``down``
    (1x1 conv + BatchNorm when the channel count changes, else identity), ReLU.

    Args:
        in_channels, out_channels: feature channels.
        A: the graph ``(K, V, V)``, the start of the trainable ``A``.
        rel_reduction: ``conv1``/``conv2`` have ``in_channels // rel_reduction`` channels (8 for
            inputs of at most 16 channels).
        impl: 'fast' or 'reference' (see the module docstring); the fast path needs plain BatchNorm.
    """

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor, rel_reduction: int = 8,
                 impl: str = 'fast'):
        super().__init__()
        self.impl = check_impl('UnitCTRGCN', impl)
        if A.dim() != 3 or A.shape[1] != A.shape[2]:
            raise ValueError(f'UnitCTRGCN A must be a graph (K, V, V), got shape {tuple(A.shape)}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_subsets = A.shape[0]
        self.A = nn.Parameter(A.clone())
        self.alpha = nn.Parameter(torch.zeros(1))  # one scale shared by the subsets
        self.convs = nn.ModuleList([CTRGC(in_channels, out_channels, rel_reduction) for _ in range(self.num_subsets)])
        if in_channels != out_channels:
            self.down = nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size=1),
                                      nn.BatchNorm2d(out_channels))
        else:
            self.down = nn.Identity()
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    @property
    def fast(self) -> bool:
        """Whether ``forward`` takes the fast path, asked at every call (see ``fused.fused_norms``)."""
        return self.impl == 'fast' and fused_norms(self)

    @property
    def widest_channels(self) -> int:
        """Channels of the widest tensor the unit makes: the subsets' ``conv3`` features side by side."""
        return self.num_subsets * self.out_channels

    def init_weights(self) -> None:
        """For training from scratch: convs Kaiming-normal (fan-out) with zero bias, BatchNorms 1 / 0
        but ``bn``'s weight 1e-6 (the unit starts close to its ``down`` path), ``alpha`` 0."""
        init_convs_and_norms(self)
        nn.init.constant_(self.bn.weight, 1e-6)
        nn.init.zeros_(self.alpha)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fast:
            return from_channel_major(self.forward_channel_major(to_channel_major(x)))
        return self.forward_reference(x)

    def forward_reference(self, x: torch.Tensor) -> torch.Tensor:
        out = sum(conv(x, self.A[k], self.alpha) for k, conv in enumerate(self.convs))
        return self.relu(self.bn(out) + self.down(x))

    def forward_channel_major(self, x: torch.Tensor) -> torch.Tensor:
        """The fast path on ``(C, N, T, V)`` (see ``fused.py``)."""
        _, n, t, v = x.shape
        k, c = self.num_subsets, self.out_channels
        # one product for the subsets' conv3: (K * C, N, T, V)
        features = conv_bn(x, [(stacked_conv([conv.conv3 for conv in self.convs]), None)], self.training)[0]
        # conv1 and conv2 of every subset as one product on the time-averaged input: a 1x1 convolution
        # commutes with the mean over frames, so the embeddings are computed on 1 frame instead of T
        pooled = x.mean(2, keepdim=True)
        embeddings = conv_bn(pooled, [(stacked_conv([conv.conv1 for conv in self.convs]
                                                    + [conv.conv2 for conv in self.convs]), None)], self.training)[0]
        x1, x2 = embeddings.view(2, k, -1, n, v)  # K, R, N, V each
        relation = torch.tanh(x1.unsqueeze(-1) - x2.unsqueeze(-2))  # K, R, N, V (sender), V (receiver)
        graphs = self.channel_graphs_channel_major(relation)  # K, C, N, V, V
        # the subsets summed as the products accumulate (one batch of matrices per channel and sample)
        out = summed_aggregation(features.view(k, c * n, t, v), graphs.to(features.dtype).view(k, c * n, v, v))
        out = batch_norm(out.view(c, n, t, v), self.bn, self.training)
        res = conv_bn(x, [(self.down[0], self.down[1])], self.training)[0] if isinstance(
            self.down, nn.Sequential) else x
        return act_(self.relu, add_(out, res))

    def channel_graphs_channel_major(self, relation: torch.Tensor) -> torch.Tensor:
        """``CTRGC.channel_graphs`` of every subset from the relations ``(K, R, N, V, V)``:
        ``(K, C_out, N, V, V)``."""
        k, r, n, v, _ = relation.shape
        dtype = relation.dtype  # the parameters in the features' dtype (bfloat16 under autocast), a no-op else
        alpha = self.alpha.to(dtype)
        # alpha folded into conv4's weights, its bias and A added in one pass: conv4(rel) * alpha + A
        # = (alpha W4) rel + (alpha b4 + A)
        weight = torch.stack([conv.conv4.weight.view(-1, r) for conv in self.convs]).to(dtype) * alpha  # K, C, R
        bias = torch.stack([conv.conv4.bias for conv in self.convs]).to(dtype) * alpha  # K, C
        offset = self.A.to(dtype).view(k, 1, 1, v * v) + bias[:, :, None, None]  # K, C, 1 (N), V * V
        graphs = torch.bmm(weight, relation.reshape(k, r, n * v * v)).view(k, -1, n, v * v)
        return graphs.add_(offset).view(k, -1, n, v, v)
