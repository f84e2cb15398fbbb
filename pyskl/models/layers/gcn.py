"""ST-GCN's spatial unit: a graph convolution over the joints with one graph per subset (``UnitGCN``).

A 1x1 convolution maps the input to ``K x out`` channels, split subset-major (the first ``out``
channels belong to subset 0); each subset is aggregated over the joints with its graph
(``A[k, i, j]`` weights what joint ``i`` sends to joint ``j``), the subsets are summed, then
BatchNorm, the unit's own residual (``with_res``: ST-GCN++) and the activation. With
``conv_pos='post'`` the input is aggregated first and the convolution maps the ``K x in``
aggregated channels to ``out``.

How the graph adapts during training (``adaptive``):

- ``'importance'`` (ST-GCN): ``A * PA``, the graph a buffer, ``PA`` a parameter starting at 1 that
  scales each edge;
- ``'offset'``: ``A + PA``, ``PA`` a parameter starting near 0 (U(-1e-6, 1e-6));
- ``'init'`` (ST-GCN++): ``A`` itself a parameter, starting at the graph;
- None: the graph as built, a buffer.

Attribute names (``A``, ``PA``, ``conv``, ``bn``, ``down``) are the original PYSKL's: released
checkpoints depend on them. ``impl``: ``'fast'`` (the default) runs the ``'pre'`` unit on
channel-major tensors (``fused.py``), ``'reference'`` is the straightforward statement; the same
numbers and state dict.
"""
import torch
from torch import nn

from .builders import build_activation, build_norm
from .fused import (act_, add_, batch_norm, check_impl, conv_bn, from_channel_major, fused_norms, product,
                    summed_aggregation, to_channel_major)

ADAPTIVE_MODES = (None, 'importance', 'offset', 'init')
CONV_POSITIONS = ('pre', 'post')


class UnitGCN(nn.Module):
    """ST-GCN's graph convolution (see the module docstring).

    Args:
        in_channels, out_channels: feature channels.
        A: the graph, ``(K, V, V)``.
        adaptive: None, 'importance', 'offset' or 'init' (how the graph is learned).
        conv_pos: 'pre' (convolution, then aggregation) or 'post' (aggregation, then convolution).
        with_res: add the unit's own residual (a 1x1 convolution + norm when the channels change,
            else the input) after the norm, before the activation.
        norm, act: the norm and the activation.
        impl: 'fast' or 'reference'; the fast path needs ``conv_pos='pre'`` and plain BatchNorm ('BN').
    """

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor, adaptive: str | None = 'importance',
                 conv_pos: str = 'pre', with_res: bool = False, norm='BN', act='ReLU', impl: str = 'fast'):
        super().__init__()
        self.impl = check_impl('UnitGCN', impl)
        if adaptive not in ADAPTIVE_MODES:
            raise ValueError(f'UnitGCN adaptive={adaptive!r}: choose one of {list(ADAPTIVE_MODES)}')
        if conv_pos not in CONV_POSITIONS:
            raise ValueError(f'UnitGCN conv_pos={conv_pos!r}: choose one of {list(CONV_POSITIONS)}')
        if A.dim() != 3 or A.shape[1] != A.shape[2]:
            raise ValueError(f'UnitGCN expects a graph A of shape (K, V, V), got {tuple(A.shape)}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_subsets = A.shape[0]
        self.adaptive = adaptive
        self.conv_pos = conv_pos
        self.with_res = with_res

        if adaptive == 'init':
            self.A = nn.Parameter(A.clone())
        else:
            self.register_buffer('A', A.clone())
        if adaptive == 'importance':
            self.PA = nn.Parameter(torch.ones_like(A))
        elif adaptive == 'offset':
            self.PA = nn.Parameter(torch.empty_like(A).uniform_(-1e-6, 1e-6))

        self.bn = build_norm(norm, out_channels)
        self.act = build_activation(act)
        if conv_pos == 'pre':
            self.conv = nn.Conv2d(in_channels, out_channels * self.num_subsets, 1)
        else:
            self.conv = nn.Conv2d(in_channels * self.num_subsets, out_channels, 1)
        if not with_res:
            self.down = None
        elif in_channels != out_channels:
            self.down = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), build_norm(norm, out_channels))
        else:
            self.down = nn.Identity()

    @property
    def fast(self) -> bool:
        """Whether ``forward`` takes the fast path, asked at every call (see ``fused.fused_norms``)."""
        return self.impl == 'fast' and self.conv_pos == 'pre' and fused_norms(self)

    @property
    def widest_channels(self) -> int:
        """Channels of the widest tensor the unit makes: the subsets' features side by side."""
        return self.num_subsets * (self.out_channels if self.conv_pos == 'pre' else self.in_channels)

    def graph(self) -> torch.Tensor:
        """The graph the unit aggregates with, ``(K, V, V)``."""
        if self.adaptive == 'importance':
            return self.A * self.PA
        if self.adaptive == 'offset':
            return self.A + self.PA
        return self.A

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fast:
            return from_channel_major(self.forward_channel_major(to_channel_major(x)))
        return self.forward_reference(x)

    def forward_reference(self, x: torch.Tensor) -> torch.Tensor:
        n, _, t, v = x.shape
        A = self.graph()
        res = self.down(x) if self.down is not None else None
        if self.conv_pos == 'pre':
            x = self.conv(x).view(n, self.num_subsets, self.out_channels, t, v)  # N, K * C', T, V -> N, K, C', T, V
            x = torch.einsum('nkctv,kvw->nctw', x, A)
        else:
            x = torch.einsum('nctv,kvw->nkctw', x, A).reshape(n, -1, t, v)  # N, K * C, T, V
            x = self.conv(x)
        x = self.bn(x)
        if res is not None:
            x = x + res
        return self.act(x)

    def aggregate_then_convolve(self, x: torch.Tensor) -> torch.Tensor:
        """``sum_k aggregate_k(conv_k(x))`` of a channel-major ``x`` computed as
        ``sum_k conv_k(aggregate_k(x))``: where the unit widens the channels, the narrower input is
        aggregated (one batched product, the subsets side by side as the convolution reads them),
        then one product over (subset, channel). The convolution's bias, which the aggregation
        weights by each joint's in-degree, is added after. ``(C, N, T, V)`` -> ``(C', N, T, V)``."""
        C, n, t, v = x.shape
        k, c = self.num_subsets, self.out_channels
        A = self.graph().to(x.dtype)
        support = torch.matmul(x.reshape(1, C * n * t, v), A).view(k * C, n, t, v)
        weight = self.conv.weight.view(k, c, C).transpose(0, 1).reshape(c, k * C)
        y = product(weight, support)
        bias = self.conv.bias.view(k, c).t().to(A.dtype) @ A.sum(1)  # C', V
        return add_(y, bias.to(y.dtype).view(c, 1, 1, v))

    def forward_channel_major(self, x: torch.Tensor) -> torch.Tensor:
        """The fast path on ``(C, N, T, V)`` (``conv_pos='pre'``; see ``fused.py``): convolve, then
        aggregate the subsets' features, or aggregate first where the unit widens the channels
        (``aggregate_then_convolve``: fewer channels to aggregate, no sum over subsets)."""
        _, n, t, v = x.shape
        k, c = self.num_subsets, self.out_channels
        res = None
        if isinstance(self.down, nn.Sequential):  # BN folded into the product in eval
            res = conv_bn(x, [(self.down[0], self.down[1])], self.training)[0]
        elif self.down is not None:
            res = x
        if self.in_channels < c:
            y = self.aggregate_then_convolve(x)
        else:
            y = conv_bn(x, [(self.conv, None)], self.training)[0]  # K * C', N, T, V
            # each subset's aggregation one product over (channel, sample, frame) rows, summed as it goes
            y = summed_aggregation(y.view(k, 1, c * n * t, v), self.graph().to(y.dtype)[:, None])
        y = batch_norm(y.view(c, n, t, v), self.bn, self.training)
        if res is not None:
            y = add_(y, res)
        return act_(self.act, y)
