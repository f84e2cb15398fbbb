"""ST-GCN (Yan et al., AAAI 2018) as practised in PYSKL, and ST-GCN++ (Duan et al., ACM MM 2022) by
its options: a stack of blocks, each a spatial graph convolution (:class:`UnitGCN`), a temporal unit
and a residual.

- ST-GCN: ``STGCN(graph_cfg=dict(layout=..., mode='stgcn_spatial'))``: the graph scaled by a learned
  edge importance, a 9x1 temporal convolution (:class:`UnitTCN`).
- ST-GCN++: ``STGCN(gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn',
  graph_cfg=dict(layout=..., mode='spatial'))``: the graph itself learned, a residual inside the
  spatial unit, the multi-scale temporal unit (:class:`MSTCN`).

Module names follow the original PYSKL (``data_bn``, ``gcn.<i>.gcn``, ``gcn.<i>.tcn``,
``gcn.<i>.residual``) so its released checkpoints load as they are.
"""
import torch
from torch import nn

from ...registry import MODELS
from ..layers import MSTCN, UnitGCN, UnitTCN
from ..layers.fused import check_impl
from ..layers.mstcn import DEFAULT_MS_CFG
from ..layers.tcn import block_residual
from .base import GCNBackbone, GCNBlock, per_stage, stage_schedule

TCN_TYPES = ('unit_tcn', 'mstcn')


class STGCNBlock(GCNBlock):
    """``ReLU(tcn(gcn(x)) + residual(x))``; the residual is none, the identity, or a strided 1x1
    ``UnitTCN`` where the block changes the shape.

    Args:
        in_channels, out_channels: feature channels.
        A: the graph, ``(K, V, V)``.
        stride: temporal stride (of the temporal unit and the residual).
        residual: whether the block has a residual.
        gcn_cfg: arguments of :class:`UnitGCN` (adaptive, conv_pos, with_res, norm, act).
        tcn_type: 'unit_tcn' (a 9x1 convolution) or 'mstcn' (the multi-scale temporal unit).
        tcn_cfg: arguments of the temporal unit (dropout, norm; ms_cfg, mid_channels for 'mstcn').
        impl: 'fast' or 'reference' (see :class:`STGCN`).
    """

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor, stride: int = 1,
                 residual: bool = True, gcn_cfg: dict | None = None, tcn_type: str = 'unit_tcn',
                 tcn_cfg: dict | None = None, impl: str = 'fast'):
        super().__init__()
        self.impl = check_impl('STGCNBlock', impl)
        if tcn_type not in TCN_TYPES:
            raise ValueError(f'STGCN tcn_type={tcn_type!r}: choose one of {list(TCN_TYPES)}')
        self.gcn = UnitGCN(in_channels, out_channels, A, impl=impl, **(gcn_cfg or {}))
        if tcn_type == 'unit_tcn':
            self.tcn = UnitTCN(out_channels, out_channels, kernel_size=9, stride=stride, **(tcn_cfg or {}))
        else:
            self.tcn = MSTCN(out_channels, out_channels, stride=stride, impl=impl, **(tcn_cfg or {}))
        self.relu = nn.ReLU()
        self.residual = block_residual(in_channels, out_channels, stride, residual)


@MODELS.register_module()
class STGCN(GCNBackbone):
    """ST-GCN and ST-GCN++ (see the module docstring).

    Input ``(N, M, T, V, C)``; output ``(N, M, C_out, T_out, V)``.

    Args:
        graph_cfg: arguments of :class:`Graph` (layout, mode, ...).
        in_channels: channels of a joint (3 for x, y, z or x, y, score).
        base_channels: channels of the first stage; ``ch_ratio`` multiplies them at each of
            ``inflate_stages``; ``down_stages`` halve the frames (1-based stage numbers).
        data_bn_type: BatchNorm over the input: 'VC' (per joint and channel, persons share it),
            'MVC' (per person too) or None.
        num_person: persons per sample (fixed by 'MVC').
        num_stages: number of blocks (when ``in_channels == base_channels`` the first,
            channel-lifting block is left out, as in the original).
        pretrained: a checkpoint to load in ``init_weights``: the backbone's weights, or a
            recognizer's checkpoint (its ``backbone.`` weights are taken).
        gcn_adaptive: how the graph is learned: 'importance' (ST-GCN), 'init' (ST-GCN++), 'offset'
            or None (see :class:`UnitGCN`).
        gcn_conv_pos: 'pre' or 'post': the spatial unit's convolution before or after aggregation.
        gcn_with_res: a residual inside the spatial unit (ST-GCN++).
        gcn_norm, gcn_act: the spatial unit's norm and activation.
        tcn_type: 'unit_tcn' (ST-GCN: a 9x1 convolution) or 'mstcn' (ST-GCN++: the multi-scale unit).
        tcn_dropout: dropout at the end of the temporal unit (not in the first block, as in the
            original; the vanilla ST-GCN recipe uses 0.5).
        tcn_norm: the temporal unit's norm.
        tcn_ms_cfg, tcn_mid_channels: the branches of 'mstcn' and their channels as a fraction of
            the block's (None: an even split); only with ``tcn_type='mstcn'``.
        Any gcn_*/tcn_* argument given as a tuple of ``num_stages`` values sets it per stage.
        impl: 'fast' (default) or 'reference': the blocks on channel-major tensors
            (``pyskl/models/layers/fused.py``) or the units' straightforward statement; the same
            numbers and state dict. Blocks with other norms than 'BN' or ``gcn_conv_pos='post'`` run
            the reference.
    """

    def __init__(self, graph_cfg: dict, in_channels: int = 3, base_channels: int = 64, data_bn_type: str | None = 'VC',
                 ch_ratio: float = 2, num_person: int = 2, num_stages: int = 10, inflate_stages=(5, 8),
                 down_stages=(5, 8), pretrained: str | None = None, gcn_adaptive='importance', gcn_conv_pos='pre',
                 gcn_with_res=False, gcn_norm='BN', gcn_act='ReLU', tcn_type='unit_tcn', tcn_dropout=0.0,
                 tcn_norm='BN', tcn_ms_cfg=None, tcn_mid_channels=None, impl: str = 'fast', init_cfg=None):
        super().__init__(graph_cfg, in_channels, num_person, data_bn_type, pretrained, init_cfg=init_cfg)
        self.impl = check_impl('STGCN', impl)
        A = self.graph_tensor()
        self.base_channels = base_channels
        self.ch_ratio = ch_ratio
        self.inflate_stages = inflate_stages
        self.down_stages = down_stages

        gcn_args = dict(adaptive=gcn_adaptive, conv_pos=gcn_conv_pos, with_res=gcn_with_res, norm=gcn_norm,
                        act=gcn_act)
        tcn_args = dict(type=tcn_type, dropout=tcn_dropout, norm=tcn_norm, ms_cfg=tcn_ms_cfg,
                        mid_channels=tcn_mid_channels)
        gcn_cfgs = per_stage(gcn_args, num_stages)
        tcn_cfgs = [self.temporal_args(cfg) for cfg in per_stage(tcn_args, num_stages)]
        tcn_cfgs[0]['dropout'] = 0.0  # the first block never drops out (as in the original)

        schedule = stage_schedule(in_channels, base_channels, num_stages, ch_ratio, inflate_stages, down_stages)
        first_stage = num_stages - len(schedule)  # 0, or 1 when the channel-lifting stage is left out
        blocks = []
        for i, b in enumerate(schedule):
            tcn_cfg = dict(tcn_cfgs[first_stage + i])
            tcn_type = tcn_cfg.pop('type')
            blocks.append(STGCNBlock(b['in_channels'], b['out_channels'], A.clone(), b['stride'],
                                     residual=b['residual'], gcn_cfg=gcn_cfgs[first_stage + i], tcn_type=tcn_type,
                                     tcn_cfg=tcn_cfg, impl=impl))
        self.gcn = nn.ModuleList(blocks)
        self.out_channels = schedule[-1]['out_channels']
        self.num_stages = len(schedule)

    @staticmethod
    def temporal_args(cfg: dict) -> dict:
        """One stage's temporal-unit arguments, refusing the multi-scale ones for 'unit_tcn'."""
        cfg = dict(cfg)
        if cfg['type'] not in TCN_TYPES:
            raise ValueError(f'STGCN tcn_type={cfg["type"]!r}: choose one of {list(TCN_TYPES)}')
        if cfg['type'] == 'unit_tcn':
            for key in ('ms_cfg', 'mid_channels'):
                if cfg.pop(key) is not None:
                    raise ValueError(f"STGCN tcn_{key} applies to tcn_type='mstcn' only, not 'unit_tcn'")
        elif cfg['ms_cfg'] is None:
            cfg['ms_cfg'] = DEFAULT_MS_CFG
        return cfg

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_blocks(x, self.gcn)  # N, M, T, V, C -> N, M, C', T', V
