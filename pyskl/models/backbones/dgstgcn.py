"""DG-STGCN backbone: a stack of DG-GCN + DG-TCN blocks (Duan et al., arXiv 2210.05895).

Module and parameter names follow the original PYSKL (``data_bn``, ``gcn.<i>.gcn``,
``gcn.<i>.tcn``, ``gcn.<i>.residual``) so its released checkpoints load as they are.
"""
import torch
from torch import nn

from ...registry import MODELS
from ..layers import DGGCN, DGTCN
from ..layers.dggcn import check_impl
from ..layers.tcn import block_residual
from .base import GCNBackbone, GCNBlock, per_stage, stage_schedule


class DGBlock(GCNBlock):
    """DG-GCN, then DG-TCN, plus a residual (identity, a strided 1x1 ``UnitTCN``, or none)."""

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor, stride: int = 1,
                 residual: bool = True, gcn_cfg: dict | None = None, tcn_cfg: dict | None = None,
                 impl: str = 'fast'):
        super().__init__()
        self.impl = check_impl('DGBlock', impl)
        self.gcn = DGGCN(in_channels, out_channels, A, impl=impl, **(gcn_cfg or {}))
        self.tcn = DGTCN(out_channels, out_channels, stride=stride, impl=impl, **(tcn_cfg or {}))
        self.relu = nn.ReLU()
        self.residual = block_residual(in_channels, out_channels, stride, residual)


@MODELS.register_module()
class DGSTGCN(GCNBackbone):
    """DG-STGCN.

    Input ``(N, M, T, V, C)``; output ``(N, M, C_out, T_out, V)``.

    Args:
        graph_cfg: arguments of :class:`Graph` (layout, mode, ...).
        in_channels: channels of a joint (3 for x, y, z; more for concatenated streams).
        base_channels: channels of the first stage; ``ch_ratio`` multiplies them at each
            of ``inflate_stages``; ``down_stages`` halve the temporal length (1-based stage numbers).
        num_stages: number of blocks (when ``in_channels == base_channels`` the first,
            channel-lifting block is skipped, as in the original).
        data_bn_type: BatchNorm over the input: 'VC' (per joint and channel), 'MVC' (per person
            too) or None.
        num_person: persons per sample (for 'MVC').
        gcn_*: arguments of :class:`DGGCN` (ratio, ctr, ada, subset_wise, ada_act, ctr_act, norm, act).
        tcn_*: arguments of :class:`DGTCN` (ms_cfg, mid_channels, num_joints, dropout, norm, act).
        Any gcn_*/tcn_* argument given as a tuple of ``num_stages`` values sets it per stage.
        pretrained: a checkpoint to load in ``init_weights``: the backbone's weights, or a
            recognizer's checkpoint (its ``backbone.`` weights are taken).
        impl: 'fast' (default) or 'reference': the layers' fast path or their straightforward
            statement, the same numbers and state dict (see ``pyskl/models/layers``).
    """

    def __init__(self, graph_cfg: dict, in_channels: int = 3, base_channels: int = 64, ch_ratio: float = 2,
                 num_stages: int = 10, inflate_stages=(5, 8), down_stages=(5, 8), data_bn_type: str | None = 'VC',
                 num_person: int = 2, pretrained: str | None = None,
                 gcn_ratio=0.25, gcn_ctr='T', gcn_ada='T', gcn_subset_wise=False, gcn_ada_act='softmax',
                 gcn_ctr_act='tanh', gcn_norm='BN', gcn_act='ReLU',
                 tcn_ms_cfg=((3, 1), (3, 2), (3, 3), (3, 4), ('max', 3), '1x1'), tcn_mid_channels=None,
                 tcn_num_joints=25, tcn_dropout=0.0, tcn_norm='BN', tcn_act='ReLU', impl: str = 'fast', init_cfg=None):
        super().__init__(graph_cfg, in_channels, num_person, data_bn_type, pretrained, init_cfg=init_cfg)
        self.impl = check_impl('DGSTGCN', impl)
        A = self.graph_tensor()
        self.base_channels = base_channels
        self.ch_ratio = ch_ratio
        self.inflate_stages = inflate_stages
        self.down_stages = down_stages

        gcn_args = dict(ratio=gcn_ratio, ctr=gcn_ctr, ada=gcn_ada, subset_wise=gcn_subset_wise,
                        ada_act=gcn_ada_act, ctr_act=gcn_ctr_act, norm=gcn_norm, act=gcn_act)
        tcn_args = dict(ms_cfg=tcn_ms_cfg, mid_channels=tcn_mid_channels, num_joints=tcn_num_joints,
                        dropout=tcn_dropout, norm=tcn_norm, act=tcn_act)
        gcn_cfgs = per_stage(gcn_args, num_stages)
        tcn_cfgs = per_stage(tcn_args, num_stages)
        tcn_cfgs[0]['dropout'] = 0.0  # the first block never drops out (as in the original)

        schedule = stage_schedule(in_channels, base_channels, num_stages, ch_ratio, inflate_stages, down_stages)
        first_stage = num_stages - len(schedule)  # 0, or 1 when the channel-lifting stage is left out
        self.gcn = nn.ModuleList([
            DGBlock(b['in_channels'], b['out_channels'], A.clone(), b['stride'], residual=b['residual'],
                    gcn_cfg=gcn_cfgs[first_stage + i], tcn_cfg=tcn_cfgs[first_stage + i], impl=impl)
            for i, b in enumerate(schedule)])
        self.out_channels = schedule[-1]['out_channels']
        self.num_stages = len(schedule)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_blocks(x, self.gcn)  # N, M, T, V, C -> N, M, C', T', V
