"""MS-G3D backbone: three stages of two pathways and a temporal module (Liu et al., CVPR 2020).

Each stage ``i`` (``gcn3d<i>``, ``sgcn<i>``, ``tcn<i>``, names of the original PYSKL, which released
checkpoints depend on):

- spatial pathway ``sgcn<i>``: a multi-scale graph conv (:class:`MSGCN`), then two multi-scale
  temporal modules (:class:`MSTCN`); the first carries the stage's stride, the last has no final ReLU;
- G3D pathway ``gcn3d<i>``: multi-scale graph convs over windows of 3 and 5 frames, summed
  (:class:`MultiWindowMSG3D`), the window stride being the stage's stride;
- ``ReLU(sgcn(x) + gcn3d(x))``, then the temporal module ``tcn<i>``.

Stage 1 changes the channels in its graph convs; stages 2 and 3 in the first temporal module
(spatial pathway) and in the window-collapsing ``out_conv`` (G3D pathway).

``impl='fast'`` runs each temporal module on the multi-scale temporal unit's fast path
(``pyskl/models/layers/fused.py``; keeping the stage channel-major between them measured no faster);
the graph convolutions are the same in both implementations.
"""
import torch
import torch.nn.functional as F
from torch import nn

from ...registry import MODELS
from ..layers.fused import check_impl
from ..layers.msg3d import MultiWindowMSG3D
from ..layers.msgcn import MSGCN
from ..layers.mstcn import MSTCN
from .base import GCNBackbone, per_stage

NUM_STAGES = 3
STAGE_STRIDES = (1, 2, 2)


def ms_tcn(in_channels: int, out_channels: int, stride: int = 1, out_act: bool = True,
           dropout: float = 0.0, impl: str = 'fast') -> MSTCN:
    """MS-G3D's temporal module: six branches (3x1 with dilations 1 to 4, max-pool, 1x1), each ending
    with BatchNorm, the remainder of the channel split on the last, plus a residual."""
    return MSTCN(in_channels, out_channels, stride=stride, remainder='last', branch_norm=True, transform=False,
                 residual=True, out_act=out_act, dropout=dropout, impl=impl)


@MODELS.register_module()
class MSG3D(GCNBackbone):
    """MS-G3D.

    Input ``(N, M, T, V, C)``; output ``(N, M, 4 * base_channels, T_out, V)`` with
    ``T_out = ceil(T / 4)``.

    Args:
        graph_cfg: arguments of :class:`Graph`; the mode must be 'binary_adj' (the multi-scale
            graphs are built from that one adjacency, stored as ``A`` but not used directly).
        in_channels: channels of a joint. (The original builds its first stage for 3 channels
            whatever this says, so it runs only with 3; here the first stage takes ``in_channels``.)
        base_channels: channels of stage 1; stages 2 and 3 have 2x and 4x as many.
        num_gcn_scales: hop distances of the spatial pathway's graph conv.
        num_g3d_scales: hop distances of the G3D pathway's windowed graph convs.
        num_person: persons per sample (the data BatchNorm normalises each person on its own).
        tcn_dropout: dropout at the end of each stage's temporal module ``tcn<i>``; a tuple of 3
            values sets it per stage.
        pretrained: a checkpoint to load in ``init_weights``: the backbone's weights, or a
            recognizer's checkpoint (its ``backbone.`` weights are taken).
        impl: 'fast' (default) or 'reference': the temporal modules' fast path or their
            straightforward statement, the same numbers and state dict (module docstring).
    """

    def __init__(self, graph_cfg: dict, in_channels: int = 3, base_channels: int = 96, num_gcn_scales: int = 13,
                 num_g3d_scales: int = 6, num_person: int = 2, tcn_dropout: float = 0.0,
                 pretrained: str | None = None, impl: str = 'fast', init_cfg=None):
        super().__init__(graph_cfg, in_channels, num_person, 'MVC', pretrained, init_cfg=init_cfg)
        self.impl = check_impl('MSG3D', impl)
        if self.graph.mode != 'binary_adj':
            raise ValueError(f'MSG3D builds its multi-scale graphs from one 0/1 adjacency: set graph_cfg '
                             f'mode="binary_adj" (got mode={self.graph.mode!r})')
        adjacency = self.graph.A[0]
        self.register_buffer('A', torch.tensor(adjacency, dtype=torch.float32))
        self.base_channels = base_channels
        self.num_gcn_scales = num_gcn_scales
        self.num_g3d_scales = num_g3d_scales

        channels = [in_channels] + [base_channels * 2**i for i in range(NUM_STAGES)]
        dropouts = [cfg['dropout'] for cfg in per_stage(dict(dropout=tcn_dropout), NUM_STAGES)]
        for i, stride in enumerate(STAGE_STRIDES):
            c_in, c_out = channels[i], channels[i + 1]
            graph_channels = c_out if i == 0 else c_in  # where the channels change (module docstring)
            stage = i + 1
            self.add_module(f'gcn3d{stage}', MultiWindowMSG3D(c_in, c_out, adjacency, num_g3d_scales,
                                                              window_stride=stride, embed_channels=graph_channels))
            self.add_module(f'sgcn{stage}', nn.Sequential(
                MSGCN(c_in, graph_channels, adjacency, num_gcn_scales),
                ms_tcn(graph_channels, c_out, stride=stride, impl=impl),
                ms_tcn(c_out, c_out, out_act=False, impl=impl)))
            self.add_module(f'tcn{stage}', ms_tcn(c_out, c_out, dropout=dropouts[i], impl=impl))
        self.out_channels = channels[-1]

    def stages(self):
        """``(gcn3d<i>, sgcn<i>, tcn<i>)`` for each stage."""
        return [(getattr(self, f'gcn3d{i}'), getattr(self, f'sgcn{i}'), getattr(self, f'tcn{i}'))
                for i in range(1, NUM_STAGES + 1)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        M = x.shape[1]
        x = self.to_sequences(x)  # N, M, T, V, C -> N * M, C, T, V
        for gcn3d, sgcn, tcn in self.stages():
            x = tcn(F.relu(sgcn(x) + gcn3d(x)))
        return self.to_persons(x, M)  # N * M, C', T', V -> N, M, C', T', V
