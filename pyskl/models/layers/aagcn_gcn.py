"""AAGCN's spatial unit: an adaptive graph convolution, then spatial, temporal and channel attention.

The attention-enhanced adaptive GCN of Shi et al. ("Skeleton-Based Action Recognition with
Multi-Stream Adaptive Graph Convolutional Networks", the AAGCN of 2s-AGCN). For each subset ``k`` of
the graph ``A`` (``(K, V, V)``, ``A[k, i, j]`` weights what joint ``i`` sends to joint ``j``):

- adaptive graph (``adaptive=True``): two 1x1 embeddings ``conv_a[k]``, ``conv_b[k]`` (``out /
  coff_embedding`` channels) give a joint-by-joint similarity, summed over their channels and frames
  and divided by that count; its tanh, times the scalar ``alpha``, is added to ``A[k]`` (trainable).
  Without it, ``A`` is a fixed buffer;
- the input is aggregated over joints with the subset's graph, then ``conv_d[k]`` (1x1) maps it to
  ``out`` channels.

The subsets are summed, then BatchNorm, plus ``down(x)`` (1x1 conv + BatchNorm when the channel count
changes), then ReLU. Then three attentions (``attention=True``), in this order, each ``y + y * s``
with a sigmoid gate ``s``: spatial (``conv_sa`` over the joints of the time-averaged map), temporal
(``conv_ta`` over the frames of the joint-averaged map), channel (``fc1c``, ReLU, ``fc2c`` on the
map averaged over frames and joints).

Attribute names are the original PYSKL's (``unit_aagcn``): released checkpoints depend on them.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from .init import init_convs_and_norms


def _stacked_conv1x1(convs, x: torch.Tensor) -> torch.Tensor:
    """Several 1x1 convolutions of the same input as one: their outputs side by side over channels."""
    weight = torch.cat([conv.weight for conv in convs])
    bias = torch.cat([conv.bias for conv in convs])
    return F.conv2d(x, weight, bias)


class UnitAAGCN(nn.Module):
    """Adaptive graph convolution with spatial, temporal and channel attention (see the module docstring).

    Input ``(N, C_in, T, V)``; output ``(N, C_out, T, V)``.

    Args:
        in_channels, out_channels: feature channels.
        A: the graph ``(K, V, V)``; copied into the unit (a parameter when adaptive, else a buffer).
        coff_embedding: the embeddings have ``out_channels // coff_embedding`` channels.
        adaptive: learn the graph and add the input-dependent similarity to it.
        attention: apply the spatial, temporal and channel attentions.
    """

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor, coff_embedding: int = 4,
                 adaptive: bool = True, attention: bool = True):
        super().__init__()
        if A.dim() != 3 or A.shape[1] != A.shape[2]:
            raise ValueError(f'UnitAAGCN A must be a graph (K, V, V), got shape {tuple(A.shape)}')
        if not (isinstance(coff_embedding, int) and 0 < coff_embedding <= out_channels):
            raise ValueError(f'UnitAAGCN coff_embedding={coff_embedding!r} must be a positive int of at most '
                             f'out_channels={out_channels}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_subsets, num_joints = A.shape[0], A.shape[-1]
        self.embed_channels = out_channels // coff_embedding
        self.adaptive = adaptive
        self.attention = attention

        # State-dict order as the original's: A, alpha, conv_d, conv_a, conv_b, conv_ta, conv_sa, fc1c,
        # fc2c, down, bn (a module's parameters and buffers come before its submodules).
        if adaptive:
            self.A = nn.Parameter(A.clone())
            self.alpha = nn.Parameter(torch.zeros(1))
        else:
            self.register_buffer('A', A.clone())
        self.conv_d = nn.ModuleList(nn.Conv2d(in_channels, out_channels, 1) for _ in range(self.num_subsets))
        if adaptive:
            self.conv_a = nn.ModuleList(
                nn.Conv2d(in_channels, self.embed_channels, 1) for _ in range(self.num_subsets))
            self.conv_b = nn.ModuleList(
                nn.Conv2d(in_channels, self.embed_channels, 1) for _ in range(self.num_subsets))
        if attention:
            self.conv_ta = nn.Conv1d(out_channels, 1, 9, padding=4)
            joint_kernel = num_joints if num_joints % 2 else num_joints - 1  # odd, to keep V joints
            self.conv_sa = nn.Conv1d(out_channels, 1, joint_kernel, padding=(joint_kernel - 1) // 2)
            self.fc1c = nn.Linear(out_channels, out_channels // 2)
            self.fc2c = nn.Linear(out_channels // 2, out_channels)
        if in_channels != out_channels:
            self.down = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))
        else:
            self.down = nn.Identity()
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    @property
    def widest_channels(self) -> int:
        """Channels of the widest tensor the unit makes: the subsets' aggregations side by side, or
        the output."""
        return max(self.num_subsets * self.in_channels, self.out_channels)

    def init_weights(self) -> None:
        """For training from scratch, as the original: 1x1 convs Kaiming-normal (fan-out) with zero
        bias, ``conv_d`` normal with std sqrt(2 / (out * in * K)), BatchNorms 1 / 0 but ``bn`` 1e-6,
        ``alpha`` 0; ``conv_ta`` and ``fc2c`` zero (temporal and channel attention start as ``y + y / 2``),
        ``conv_sa`` Xavier-normal, ``fc1c`` Kaiming-normal (fan-in)."""
        init_convs_and_norms(self)
        nn.init.constant_(self.bn.weight, 1e-6)
        for conv in self.conv_d:
            std = math.sqrt(2.0 / (self.out_channels * self.in_channels * self.num_subsets))
            nn.init.normal_(conv.weight, 0, std)
            nn.init.zeros_(conv.bias)
        if self.adaptive:
            nn.init.zeros_(self.alpha)
        if self.attention:
            nn.init.zeros_(self.conv_ta.weight)
            nn.init.zeros_(self.conv_ta.bias)
            nn.init.xavier_normal_(self.conv_sa.weight)
            nn.init.zeros_(self.conv_sa.bias)
            nn.init.kaiming_normal_(self.fc1c.weight)
            nn.init.zeros_(self.fc1c.bias)
            nn.init.zeros_(self.fc2c.weight)
            nn.init.zeros_(self.fc2c.bias)

    def adaptive_graph(self, x: torch.Tensor) -> torch.Tensor:
        """Each sample's graph: ``A[k] + alpha * tanh(similarity_k(x))``, ``(N, K, V, V)``."""
        n, _, t, v = x.shape
        k, e = self.num_subsets, self.embed_channels
        # all 2K embeddings in one conv: N, 2*K*E, T, V -> N, 2, K, E*T, V
        embed = _stacked_conv1x1([*self.conv_a, *self.conv_b], x).view(n, 2, k, e * t, v)
        a, b = embed.unbind(1)
        similarity = torch.matmul(a.transpose(-1, -2), b) / (e * t)  # N, K, V (sender), V (receiver)
        return self.A + self.alpha * torch.tanh(similarity)

    def attend(self, y: torch.Tensor) -> torch.Tensor:
        """Spatial, then temporal, then channel attention, each ``y + y * gate``."""
        gate = torch.sigmoid(self.conv_sa(y.mean(2)))  # N, C, T, V -> N, C, V -> N, 1, V
        y = y + y * gate.unsqueeze(2)
        gate = torch.sigmoid(self.conv_ta(y.mean(3)))  # N, C, T, V -> N, C, T -> N, 1, T
        y = y + y * gate.unsqueeze(3)
        gate = torch.sigmoid(self.fc2c(self.relu(self.fc1c(y.mean((2, 3))))))  # N, C
        return y + y * gate[:, :, None, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v = x.shape
        graph = self.adaptive_graph(x) if self.adaptive else self.A  # (N, K, V, V) or (K, V, V)
        # each subset's aggregation over joints: N, C, T, V -> N, K, C * T, V
        aggregated = torch.matmul(x.reshape(n, 1, c * t, v), graph)
        # the K conv_d summed, as one conv over the subsets' channels side by side (biases add up)
        weight = torch.cat([conv.weight for conv in self.conv_d], dim=1)
        bias = torch.stack([conv.bias for conv in self.conv_d]).sum(0)
        y = F.conv2d(aggregated.reshape(n, self.num_subsets * c, t, v), weight, bias)
        y = self.relu(self.bn(y) + self.down(x))
        return self.attend(y) if self.attention else y
