"""CTR-GCN backbone: a stack of CTR-GC + multi-scale temporal blocks (Chen et al., ICCV 2021), as the
original PYSKL has it.

Module and parameter names follow the original PYSKL (``A``, ``data_bn``, ``net.<i>.gcn1``,
``net.<i>.tcn1``, ``net.<i>.residual``) so its released checkpoints load as they are.
"""
import torch
from torch import nn

from ...registry import MODELS
from ..layers import UnitCTRGCN
from ..layers.fused import check_impl
from ..layers.init import init_convs_and_norms
from ..layers.mstcn import MSTCN
from ..layers.tcn import block_residual
from .base import GCNBackbone, GCNBlock, per_stage, stage_schedule

MAX_POOL_BRANCH = ('max', 3)


def temporal_branches(kernel_size: int, dilations) -> tuple:
    """CTR-GCN's temporal branches: one ``(kernel_size, d)`` convolution per dilation, a 3x1 max-pool
    and a strided 1x1 convolution."""
    return tuple((kernel_size, d) for d in dilations) + (MAX_POOL_BRANCH, '1x1')


class CTRGCNBlock(GCNBlock):
    """``ReLU(tcn1(gcn1(x)) + residual(x))``: the CTR-GC unit, the multi-scale temporal unit (ending in
    its own ReLU), and a residual (none, the identity, or a strided 1x1 ``UnitTCN``).

    The units keep the original's names ``gcn1`` and ``tcn1`` (checkpoints depend on them);
    ``gcn`` and ``tcn`` name them for :class:`GCNBlock`.
    """

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor, stride: int = 1,
                 residual: bool = True, kernel_size: int = 5, dilations=(1, 2), tcn_dropout: float = 0.0,
                 impl: str = 'fast'):
        super().__init__()
        self.impl = check_impl('CTRGCNBlock', impl)
        self.gcn1 = UnitCTRGCN(in_channels, out_channels, A, impl=impl)
        self.tcn1 = MSTCN(out_channels, out_channels, ms_cfg=temporal_branches(kernel_size, dilations),
                          stride=stride, remainder='last', branch_norm=True, transform=False, out_act=True,
                          dropout=tcn_dropout, impl=impl)
        self.relu = nn.ReLU()
        self.residual = block_residual(in_channels, out_channels, stride, residual)

    @property
    def gcn(self) -> UnitCTRGCN:
        return self.gcn1

    @property
    def tcn(self) -> MSTCN:
        return self.tcn1

    def init_weights(self) -> None:
        """For training from scratch: convs Kaiming-normal (fan-out) with zero bias, BatchNorms 1 / 0,
        then the CTR-GC unit's own (``gcn1.bn`` weight 1e-6, ``alpha`` 0)."""
        init_convs_and_norms(self)
        self.gcn1.init_weights()


@MODELS.register_module()
class CTRGCN(GCNBackbone):
    """CTR-GCN.

    Input ``(N, M, T, V, C)``; output ``(N, M, C_out, T_out, V)``.

    Args:
        graph_cfg: arguments of :class:`Graph` (layout, mode, ...); the original uses mode 'spatial'.
        in_channels: channels of a joint (3 for x, y, z or x, y, score).
        base_channels: channels of the first stage, doubled at each of ``inflate_stages``;
            ``down_stages`` halve the frames (1-based stage numbers).
        num_stages: number of blocks. Unlike ST-GCN, the first block is built even when
            ``in_channels == base_channels`` (as in the original).
        pretrained: a checkpoint to load in ``init_weights``: the backbone's weights, or a
            recognizer's checkpoint (its ``backbone.`` weights are taken).
        num_person: persons per sample (the 'MVC' data BatchNorm fixes it).
        kernel_size: kernel of the temporal convolution branches (odd).
        dilations: one temporal convolution branch per dilation (besides a max-pool and a 1x1 branch).
        tcn_dropout: dropout at the end of every temporal unit but the first block's.
        kernel_size, dilations and tcn_dropout given as a tuple of ``num_stages`` values (for
        ``dilations``: a tuple of lists) set them per stage.
        data_bn_type: BatchNorm over the input: 'MVC' (per person, joint and channel; the original),
            'VC' (persons share it) or None.
        impl: 'fast' (default) or 'reference': the CTR-GC units' fast path or their straightforward
            statement, the same numbers and state dict (see ``pyskl/models/layers/ctrgc.py``).
    """

    def __init__(self, graph_cfg: dict, in_channels: int = 3, base_channels: int = 64, num_stages: int = 10,
                 inflate_stages=(5, 8), down_stages=(5, 8), pretrained: str | None = None, num_person: int = 2,
                 kernel_size=5, dilations=(1, 2), tcn_dropout=0.0, data_bn_type: str | None = 'MVC',
                 impl: str = 'fast', init_cfg=None):
        super().__init__(graph_cfg, in_channels, num_person, data_bn_type, pretrained, init_cfg=init_cfg)
        self.impl = check_impl('CTRGCN', impl)
        if num_stages < 1:
            raise ValueError(f'CTRGCN num_stages={num_stages} must be at least 1')
        A = self.graph_tensor()
        self.register_buffer('A', A.clone())  # the graph as built, stored as in the original, not used
        self.base_channels = base_channels
        self.inflate_stages = inflate_stages
        self.down_stages = down_stages

        tcn_cfgs = per_stage(dict(kernel_size=kernel_size, dilations=dilations, tcn_dropout=tcn_dropout),
                             num_stages, sequence_args=('dilations', ))
        for stage, cfg in enumerate(tcn_cfgs, 1):
            if not (isinstance(cfg['kernel_size'], int) and cfg['kernel_size'] > 0 and cfg['kernel_size'] % 2):
                raise ValueError(f'CTRGCN kernel_size={cfg["kernel_size"]!r} (stage {stage}) must be a positive odd '
                                 'int: the branches keep the frame count')
        tcn_cfgs[0]['tcn_dropout'] = 0.0  # the first block never drops out (as in the original)

        schedule = stage_schedule(in_channels, base_channels, num_stages, 2, inflate_stages, down_stages)
        if len(schedule) < num_stages:  # the original builds the first block even when it keeps the channels
            schedule.insert(0, dict(in_channels=in_channels, out_channels=base_channels, stride=1, residual=False))
        self.net = nn.ModuleList([
            CTRGCNBlock(b['in_channels'], b['out_channels'], A.clone(), b['stride'], residual=b['residual'],
                        impl=impl, **cfg)
            for b, cfg in zip(schedule, tcn_cfgs)])
        self.out_channels = schedule[-1]['out_channels']
        self.num_stages = num_stages

    def init_weights(self) -> None:
        """The original's initialisation for training from scratch (see ``CTRGCNBlock.init_weights``;
        the data BatchNorm keeps 1 / 0), then ``pretrained=`` if given."""
        for block in self.net:
            block.init_weights()
        super().init_weights()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_blocks(x, self.net)  # N, M, T, V, C -> N, M, C', T', V
