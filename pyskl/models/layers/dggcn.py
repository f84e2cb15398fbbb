"""DG-GCN: graph convolution with a learned, sample-dependent affinity (DG-STGCN, Sec. 3.2).

The affinity for subset ``k`` is ``A_k`` (a learned parameter, initialised
from the graph) plus two optional dynamic terms computed from the input:

- ``ctr`` (channel-wise topology refinement): ``act(x1[:, :, :, None] - x2[:, :, None])``,
  one V x V matrix per channel, scaled by ``alpha``;
- ``ada`` (adaptive): ``act(x1^T x2)``, one V x V matrix shared by the channels, scaled by ``beta``.

``x1`` and ``x2`` are 1x1 convolutions of the input, pooled over time unless a branch
is ``'NA'`` (then one graph per frame). ``alpha`` and ``beta`` start at zero, so
training starts from the static graph.

Attribute names (``A``, ``pre``, ``post``, ``conv1``, ...) are the original PYSKL's:
released checkpoints depend on them.

Two implementations compute the same (``impl``): ``'reference'`` is the straightforward statement
of the layer above, the oracle the tests compare against; ``'fast'`` (the default) reorders the
work for speed (tricks named where they are) with the same parameters and state dict.
"""
import torch
from torch import nn

from .builders import build_activation, build_norm
from .fused import act_, add_, channel_graph, check_impl, conv_bn, from_channel_major, fused_norms, to_channel_major

BRANCH_MODES = (None, 'T', 'NA')  # off, pooled over time, one graph per frame
DYNAMIC_ACTIVATIONS = ('tanh', 'relu', 'sigmoid', 'softmax')


def _branch_mode(name: str, value):
    if value is False or value == 'none':
        value = None
    if value not in BRANCH_MODES:
        raise ValueError(f'DGGCN {name}={value!r}: choose None (off), "T" (pooled over time) or "NA" (per frame)')
    return value


def _dynamic_activation(name: str, value: str) -> nn.Module:
    if value not in DYNAMIC_ACTIVATIONS:
        raise ValueError(f'DGGCN {name}={value!r}: choose one of {list(DYNAMIC_ACTIVATIONS)}')
    return {'tanh': nn.Tanh(), 'relu': nn.ReLU(), 'sigmoid': nn.Sigmoid(), 'softmax': nn.Softmax(-2)}[value]


class DGGCN(nn.Module):
    """Dynamic group graph convolution.

    Args:
        in_channels, out_channels: feature channels.
        A: graph, ``(K, V, V)``; each of the K subsets gets ``ratio * out_channels`` channels.
        ratio: channels per subset as a fraction of ``out_channels`` (None: ``1 / K``).
        ctr, ada: the two dynamic branches, None / 'T' / 'NA' (see module docstring).
        subset_wise: one ``alpha``/``beta`` per subset instead of one shared scalar.
        ctr_act, ada_act: activations of the dynamic terms.
        norm, act: normalisation and activation of the layer.
        impl: 'fast' or 'reference' (see module docstring); the fast path needs plain BatchNorm
            ('BN') and otherwise runs the reference one.
    """

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor, ratio: float | None = 0.25,
                 ctr='T', ada='T', subset_wise: bool = False, ada_act: str = 'softmax', ctr_act: str = 'tanh',
                 norm='BN', act='ReLU', impl: str = 'fast'):
        super().__init__()
        self.impl = check_impl('DGGCN', impl)
        num_subsets = A.size(0)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_subsets = num_subsets
        self.ctr = _branch_mode('ctr', ctr)
        self.ada = _branch_mode('ada', ada)
        self.subset_wise = subset_wise
        self.ctr_act = _dynamic_activation('ctr_act', ctr_act)
        self.ada_act = _dynamic_activation('ada_act', ada_act)
        if ratio is None:
            ratio = 1 / num_subsets
        self.mid_channels = int(ratio * out_channels)
        if self.mid_channels < 1:
            raise ValueError(f'DGGCN ratio={ratio} leaves no channel per subset for out_channels={out_channels}')
        inner = self.mid_channels * num_subsets

        self.act = build_activation(act)
        self.A = nn.Parameter(A.clone())
        self.alpha = nn.Parameter(torch.zeros(num_subsets))
        self.beta = nn.Parameter(torch.zeros(num_subsets))
        self.pre = nn.Sequential(nn.Conv2d(in_channels, inner, 1), build_norm(norm, inner), self.act)
        self.post = nn.Conv2d(inner, out_channels, 1)
        if self.ctr is not None or self.ada is not None:
            self.conv1 = nn.Conv2d(in_channels, inner, 1)
            self.conv2 = nn.Conv2d(in_channels, inner, 1)
        if in_channels != out_channels:
            self.down = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), build_norm(norm, out_channels))
        else:
            self.down = nn.Identity()
        self.bn = build_norm(norm, out_channels)

    @property
    def fast(self) -> bool:
        """Whether ``forward`` takes the fast path, asked at every call (see ``fused.fused_norms``)."""
        return self.impl == 'fast' and fused_norms(self)

    @property
    def widest_channels(self) -> int:
        """Channels of the widest tensor the unit makes: ``pre``'s and ``down``'s outputs side by side."""
        return self.mid_channels * self.num_subsets + self.out_channels

    def _scale(self, weights: torch.Tensor) -> torch.Tensor:
        """alpha/beta shaped to broadcast over (N, K, C, T, V, V)."""
        if self.subset_wise:
            return weights[None, :, None, None, None, None]
        return weights[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_fast(x) if self.fast else self.forward_reference(x)

    def dynamic_graph(self, x: torch.Tensor, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        """``A`` plus the dynamic terms: ``(1 or N, K, C' or 1, T or 1, V, V)``."""
        n, k, c, v = x.shape[0], self.num_subsets, self.mid_channels, x.shape[-1]
        A = self.A[None, :, None, None]  # 1, K, 1 (C), 1 (T), V, V
        x1 = x1.reshape(n, k, c, -1, v)  # N, K, C', T or 1, V
        x2 = x2.reshape(n, k, c, -1, v)
        if self.ctr is not None:
            diff = self.ctr_act(x1.unsqueeze(-1) - x2.unsqueeze(-2))  # N, K, C', T or 1, V, V
            A = A + diff * self._scale(self.alpha)
        if self.ada is not None:
            ada = torch.einsum('nkctv,nkctw->nktvw', x1, x2)[:, :, None]  # N, K, 1, T or 1, V, V
            A = A + self.ada_act(ada) * self._scale(self.beta)
        return A

    def forward_reference(self, x: torch.Tensor) -> torch.Tensor:
        n, _, t, v = x.shape
        res = self.down(x)
        k, c = self.num_subsets, self.mid_channels
        pre_x = self.pre(x).reshape(n, k, c, t, v)  # N, C, T, V -> N, K, C', T, V

        if self.ctr is None and self.ada is None:
            x = torch.einsum('nkctv,kvw->nkctw', pre_x, self.A)
        else:
            pooled = x if 'NA' in (self.ctr, self.ada) else x.mean(dim=-2, keepdim=True)
            A = self.dynamic_graph(x, self.conv1(pooled), self.conv2(pooled))
            x = self.aggregate(pre_x, A)
        x = self.post(x.reshape(n, k * c, t, v))
        return self.act(self.bn(x) + res)

    @staticmethod
    def aggregate(pre_x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        """``pre_x`` (N, K, C', T, V) over the graph ``A`` (N, K, C' or 1, T or 1, V, V), summing the source joint."""
        if A.shape[2] == 1 and A.shape[3] == 1:
            return torch.einsum('nkctv,nkvw->nkctw', pre_x, A[:, :, 0, 0])
        if A.shape[2] == 1:
            return torch.einsum('nkctv,nktvw->nkctw', pre_x, A[:, :, 0])
        if A.shape[3] == 1:
            return torch.einsum('nkctv,nkcvw->nkctw', pre_x, A[:, :, :, 0])
        return torch.einsum('nkctv,nkctvw->nkctw', pre_x, A)

    def forward_fast(self, x: torch.Tensor) -> torch.Tensor:
        return from_channel_major(self.forward_channel_major(to_channel_major(x)))

    def forward_channel_major(self, x: torch.Tensor) -> torch.Tensor:
        """The fast path on ``(C, N, T, V)`` (see ``fused.py``)."""
        _, n, t, v = x.shape
        k, c = self.num_subsets, self.mid_channels
        # one product for pre and down (both read x), one BN over their channels; BN folded in eval
        parts = [(self.pre[0], self.pre[1])]
        if isinstance(self.down, nn.Sequential):
            parts.append((self.down[0], self.down[1]))
        outs = conv_bn(x, parts, self.training)
        res = outs[1] if len(outs) > 1 else x
        pre_x = act_(self.act, outs[0]).view(k, c, n, t, v)
        if self.ctr is None and self.ada is None:
            # static graph: one product per subset over all channels, samples and frames
            x = torch.matmul(pre_x.view(k, c * n * t, v), self.A)
        else:
            pooled = x if 'NA' in (self.ctr, self.ada) else x.mean(dim=2, keepdim=True)
            x1, x2 = conv_bn(pooled, [(self.conv1, None), (self.conv2, None)], self.training)  # one product
            A = self.dynamic_graph_channel_major(x1.view(k, c, n, -1, v), x2.view(k, c, n, -1, v))
            if A.shape[3] == 1:  # one graph per (channel or subset, sample): one bmm over them
                # (explicit 3-d bmm: torch.matmul on the 5-d tensors measured 3.8x slower)
                graph = A[:, :, :, 0].expand(k, c, n, v, v).reshape(k * c * n, v, v)
                x = torch.bmm(pre_x.reshape(k * c * n, t, v), graph)
            else:  # one graph per frame
                x = torch.matmul(pre_x.unsqueeze(-2), A).squeeze(-2)
        x = conv_bn(x.reshape(k * c, n, t, v), [(self.post, self.bn)], self.training)[0]
        return act_(self.act, add_(x, res))

    def dynamic_graph_channel_major(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        """``dynamic_graph`` for channel-major ``x1``, ``x2`` (K, C', N, T or 1, V):
        ``(K, C' or 1, N, T or 1, V, V)``."""
        dtype = x1.dtype  # the parameters in the features' dtype (bfloat16 under autocast), a no-op else
        scale = (lambda w: w.to(dtype)[:, None, None, None, None, None]) if self.subset_wise else (
            lambda w: w.to(dtype)[0])
        A = self.A.to(dtype)[:, None, None, None]  # K, 1 (C), 1 (N), 1 (T), V, V
        if self.ctr is not None:  # K, C', N, T or 1, V, V
            A = channel_graph(A, x1, x2, scale(self.alpha), self.ctr_act)
        if self.ada is not None:
            ada = torch.einsum('kcntv,kcntw->kntvw', x1, x2)[:, None]  # K, 1, N, T or 1, V, V
            A = A + self.ada_act(ada) * scale(self.beta)
        return A
