"""Multi-scale graph convolution (MS-G3D's MS-GCN, Liu et al., CVPR 2020, Sec. 3.1).

Scale ``k`` of the graph links every joint to the joints exactly ``k`` hops away (and to itself), so
a far joint is seen directly instead of through the powers of a normalised adjacency, which are
dominated by the close neighbours. The input is aggregated over every scale; the copies are stacked
scale-major along the channels and mixed by a 1x1 convolution, BatchNorm and ReLU (``mlp``).

Each scale's graph is column-normalised: ``A[k, i, j]`` weights what joint ``i`` sends to joint
``j``, and what joint ``j`` receives is the mean over its ``k``-hop ring and itself. A trainable
offset ``PA`` (near zero at start) is added to the fixed graph ``A``.

Attribute names (``A``, ``PA``, ``mlp.layers.<i>``) are the original PYSKL's: released checkpoints
depend on them. MS-G3D's spatial-temporal unit (:mod:`.msg3d`) runs this layer on a windowed graph.
"""
import numpy as np
import torch
from torch import nn

from ..graph import hop_distance, normalize_digraph


def multiscale_adjacency(adjacency: np.ndarray, num_scales: int) -> np.ndarray:
    """``(num_scales, V, V)``: scale ``k`` holds the joints exactly ``k`` hops apart in the (symmetric)
    0/1 ``adjacency``, plus self loops, each column divided by its sum. Scale 0 is the identity."""
    num_node = len(adjacency)
    edges = np.argwhere(adjacency > 0)
    hops = hop_distance(num_node, edges, max_hop=num_scales - 1)
    self_loops = np.eye(num_node, dtype=bool)
    return np.stack([normalize_digraph(((hops == k) | self_loops).astype(np.float64)) for k in range(num_scales)])


class PointwiseMLP(nn.Module):
    """1x1 convolution, BatchNorm, ReLU (``layers.0``, ``layers.1``, ``layers.2``)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size=1),
                                    nn.BatchNorm2d(out_channels), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class MSGCN(nn.Module):
    """Multi-scale graph convolution on ``(N, C, T, V)``.

    Args:
        in_channels, out_channels: feature channels.
        adjacency: ``(V, V)`` symmetric 0/1 adjacency (self loops allowed, they change nothing).
        num_scales: hop distances 0 .. ``num_scales - 1``.
    """

    def __init__(self, in_channels: int, out_channels: int, adjacency: np.ndarray, num_scales: int):
        super().__init__()
        adjacency = np.asarray(adjacency)
        if adjacency.ndim != 2 or adjacency.shape[0] != adjacency.shape[1]:
            raise ValueError(f'MSGCN adjacency must be one (V, V) matrix, got shape {adjacency.shape}')
        if num_scales < 1:
            raise ValueError(f'MSGCN num_scales={num_scales} must be at least 1')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_scales = num_scales
        A = torch.tensor(multiscale_adjacency(adjacency, num_scales), dtype=torch.float32)
        self.register_buffer('A', A)
        self.PA = nn.Parameter(torch.empty_like(A))
        self.mlp = PointwiseMLP(in_channels * num_scales, out_channels)
        self.reset_parameters()

    def reset_parameters(self):
        """The graph offset starts as U(-1e-6, 1e-6): the fixed graph, slightly perturbed."""
        nn.init.uniform_(self.PA, -1e-6, 1e-6)

    def aggregate(self, x: torch.Tensor) -> torch.Tensor:
        """Every scale's aggregation, stacked scale-major: ``(N, C, T, V)`` -> ``(N, K * C, T, V)``."""
        N, C, T, V = x.shape
        K = self.num_scales
        A = self.A + self.PA
        # one matmul for all scales: the graphs side by side, (V, K * V)
        support = x @ A.transpose(0, 1).reshape(V, K * V)  # N, C, T, K * V
        support = support.view(N, C, T, K, V).permute(0, 3, 1, 2, 4)  # -> N, K, C, T, V
        return support.reshape(N, K * C, T, V)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.aggregate(x))
