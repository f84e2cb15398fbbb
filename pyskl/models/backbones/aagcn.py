"""AAGCN backbone: a stack of AAGCN blocks (Shi et al., the attention-enhanced adaptive GCN of 2s-AGCN).

Each block is AAGCN's adaptive unit with its attentions (:class:`UnitAAGCN`), then a temporal unit
(a 9x1 :class:`UnitTCN`, or :class:`MSTCN`), plus the block residual, then ReLU. Module names follow
the original PYSKL (``A``, ``data_bn``, ``gcn.<i>.gcn``, ``gcn.<i>.tcn``, ``gcn.<i>.residual``) so its
released checkpoints load as they are.
"""
import torch
from torch import nn

from ...registry import MODELS
from ..layers.aagcn_gcn import UnitAAGCN
from ..layers.mstcn import DEFAULT_MS_CFG, MSTCN
from ..layers.init import init_convs_and_norms
from ..layers.tcn import UnitTCN, block_residual
from .base import GCNBackbone, GCNBlock, per_stage, stage_schedule

GCN_TYPES = ('unit_aagcn', )
TCN_TYPES = ('unit_tcn', 'mstcn')


def temporal_unit(channels: int, stride: int, kind: str = 'unit_tcn', dropout: float = 0.0, norm='BN',
                  dilation: int = 1, ms_cfg=None, mid_channels: float | None = None) -> nn.Module:
    """The block's temporal unit: ``'unit_tcn'`` (9x1 conv + norm; ``dilation``) or ``'mstcn'`` (the
    multi-scale unit in its ST-GCN++ form; ``ms_cfg``, ``mid_channels``)."""
    if kind == 'unit_tcn':
        if ms_cfg is not None or mid_channels is not None:
            raise ValueError("tcn_ms_cfg and tcn_mid_channels go with tcn_type='mstcn', not 'unit_tcn'")
        return UnitTCN(channels, channels, 9, stride=stride, dilation=dilation, norm=norm, dropout=dropout)
    if kind == 'mstcn':
        if dilation != 1:
            raise ValueError("tcn_dilation goes with tcn_type='unit_tcn'; 'mstcn' sets dilations in tcn_ms_cfg")
        return MSTCN(channels, channels, ms_cfg=DEFAULT_MS_CFG if ms_cfg is None else ms_cfg, stride=stride,
                     mid_channels=mid_channels, dropout=dropout, norm=norm)
    raise ValueError(f'tcn_type={kind!r}: choose one of {list(TCN_TYPES)}')


class AAGCNBlock(GCNBlock):
    """:class:`UnitAAGCN`, then the temporal unit, plus a residual (identity, a strided 1x1
    ``UnitTCN``, or none); ReLU. The block runs as it reads (the spatial unit has no channel-major
    path; a multi-scale temporal unit takes its own fast path)."""

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor, stride: int = 1,
                 residual: bool = True, gcn_cfg: dict | None = None, tcn_cfg: dict | None = None):
        super().__init__()
        self.gcn = UnitAAGCN(in_channels, out_channels, A, **(gcn_cfg or {}))
        self.tcn = temporal_unit(out_channels, stride, **(tcn_cfg or {}))
        self.relu = nn.ReLU()
        self.residual = block_residual(in_channels, out_channels, stride, residual)

    def init_weights(self) -> None:
        """The original initialises the spatial unit and a 9x1 temporal unit (Kaiming-normal fan-out
        conv, zero bias, BatchNorm 1 / 0); the multi-scale unit and the residual keep PyTorch's."""
        self.gcn.init_weights()
        if isinstance(self.tcn, UnitTCN):
            init_convs_and_norms(self.tcn)



@MODELS.register_module()
class AAGCN(GCNBackbone):
    """AAGCN.

    Input ``(N, M, T, V, C)``; output ``(N, M, C_out, T_out, V)``.

    Args:
        graph_cfg: arguments of :class:`Graph` (layout, mode, ...); the released configs use
            ``mode='spatial'``. Kept as buffer ``A`` (unused by the forward pass: every block has its
            own copy).
        in_channels: channels of a joint (3 for x, y, z or x, y, score).
        base_channels: channels of the first stage, doubled at each of ``inflate_stages``;
            ``down_stages`` halve the frames (1-based stage numbers).
        data_bn_type: BatchNorm over the input: 'MVC' (per person, joint and channel: the input must
            have exactly ``num_person`` persons), 'VC' (persons share it) or None.
        num_person: persons per sample (for 'MVC').
        num_stages: number of blocks (when ``in_channels == base_channels`` the first,
            channel-lifting block is left out, as in the original).
        pretrained: a checkpoint to load in ``init_weights``: the backbone's weights, or a
            recognizer's checkpoint (its ``backbone.`` weights are taken).
        gcn_type: 'unit_aagcn' (the only spatial unit, accepted for the original's configs).
        gcn_coff_embedding, gcn_adaptive, gcn_attention: arguments of :class:`UnitAAGCN`
            (``coff_embedding``, ``adaptive``, ``attention``).
        tcn_type: 'unit_tcn' (9x1 conv + norm) or 'mstcn' (the multi-scale unit).
        tcn_dropout, tcn_norm: dropout at the end of the temporal unit (never in the first block) and
            its norm.
        tcn_dilation: the 9x1 conv's dilation ('unit_tcn').
        tcn_ms_cfg, tcn_mid_channels: the branches and their channels ('mstcn', see :class:`MSTCN`).
        Any gcn_*/tcn_* argument given as a tuple of ``num_stages`` values sets it per stage.
    """

    def __init__(self, graph_cfg: dict, in_channels: int = 3, base_channels: int = 64,
                 data_bn_type: str | None = 'MVC', num_person: int = 2, num_stages: int = 10,
                 inflate_stages=(5, 8), down_stages=(5, 8), pretrained: str | None = None,
                 gcn_type='unit_aagcn', gcn_coff_embedding=4, gcn_adaptive=True, gcn_attention=True,
                 tcn_type='unit_tcn', tcn_dropout=0.0, tcn_norm='BN', tcn_dilation=1, tcn_ms_cfg=None,
                 tcn_mid_channels=None, init_cfg=None):
        super().__init__(graph_cfg, in_channels, num_person, data_bn_type, pretrained, init_cfg=init_cfg)
        if gcn_type not in GCN_TYPES:
            raise ValueError(f'AAGCN gcn_type={gcn_type!r}: choose one of {list(GCN_TYPES)}')
        A = self.graph_tensor()
        self.register_buffer('A', A)
        self.base_channels = base_channels
        self.inflate_stages = inflate_stages
        self.down_stages = down_stages

        gcn_args = dict(coff_embedding=gcn_coff_embedding, adaptive=gcn_adaptive, attention=gcn_attention)
        tcn_args = dict(kind=tcn_type, dropout=tcn_dropout, norm=tcn_norm, dilation=tcn_dilation,
                        ms_cfg=tcn_ms_cfg, mid_channels=tcn_mid_channels)
        gcn_cfgs = per_stage(gcn_args, num_stages)
        tcn_cfgs = per_stage(tcn_args, num_stages)
        tcn_cfgs[0]['dropout'] = 0.0  # the first block never drops out (as in the original)

        schedule = stage_schedule(in_channels, base_channels, num_stages, 2, inflate_stages, down_stages)
        first_stage = num_stages - len(schedule)  # 0, or 1 when the channel-lifting stage is left out
        self.gcn = nn.ModuleList([
            AAGCNBlock(b['in_channels'], b['out_channels'], A.clone(), b['stride'], residual=b['residual'],
                       gcn_cfg=gcn_cfgs[first_stage + i], tcn_cfg=tcn_cfgs[first_stage + i])
            for i, b in enumerate(schedule)])
        self.out_channels = schedule[-1]['out_channels']
        self.num_stages = len(schedule)

    def init_weights(self) -> None:
        """For training from scratch as the original (data BatchNorm 1 / 0, each block's
        ``init_weights``), then ``pretrained=`` if given."""
        if isinstance(self.data_bn, nn.BatchNorm1d):
            nn.init.ones_(self.data_bn.weight)
            nn.init.zeros_(self.data_bn.bias)
        for block in self.gcn:
            block.init_weights()
        super().init_weights()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_blocks(x, self.gcn)  # N, M, T, V, C -> N, M, C', T', V
