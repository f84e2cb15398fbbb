"""The multi-scale temporal unit: temporal branches side by side on groups of channels.

Each branch in ``ms_cfg`` is ``(kernel, dilation)`` (1x1 reduction, norm, activation, then a dilated
``(kernel, 1)`` convolution carrying the stride), ``('max', kernel)`` (1x1 reduction, norm,
activation, then max-pooling over frames with the stride) or ``'1x1'`` (a strided 1x1 convolution).
Their outputs are concatenated. The zoo uses it in three forms:

- ST-GCN++ (and DG-TCN, which extends it, :mod:`.dgtcn`): no norm at a branch's end; the
  concatenation goes through ``transform`` (norm, activation, 1x1 convolution) and ``bn``; the
  remainder of the channel split goes to the **first** branch. ``MSTCN(...)`` with the defaults.
- CTR-GCN: every branch ends with a norm (``branch_norm=True``), no transform, the remainder goes
  to the **last** branch, an activation at the end (``out_act=True``).
- MS-G3D: as CTR-GCN, plus a residual (identity, or a strided 1x1 ``UnitTCN`` when the shape
  changes, ``residual=True``) before the activation (which one of its units leaves out).

Attribute names (``branches.<i>.<j>``, ``transform``, ``bn``, ``residual``) are the original PYSKL's:
released checkpoints depend on them.

``impl``: every form has two implementations of the same numbers and state dict: ``'reference'``,
the straightforward statement, and ``'fast'`` (the default), DG-STGCN's fast path on channel-major
tensors (``fused.py``): one product for the branches' 1x1 reductions, BatchNorm folded into the
products and temporal convolutions in eval.
"""
import torch
from torch import nn

from .builders import build_activation, build_norm
from .fused import (act_, act_temporal_conv, add_, batch_norm, check_impl, conv_bn, from_channel_major,
                    fused_norms, temporal_max_pool, to_channel_major)
from .tcn import UnitTCN, block_residual

DEFAULT_MS_CFG = ((3, 1), (3, 2), (3, 3), (3, 4), ('max', 3), '1x1')


def check_ms_cfg(owner: str, ms_cfg) -> None:
    """Refuse a branch list that is empty or holds something that is not a branch."""
    if len(ms_cfg) == 0:
        raise ValueError(f'{owner} ms_cfg needs at least one branch')
    for i, cfg in enumerate(ms_cfg):
        if cfg == '1x1':
            continue
        ok = isinstance(cfg, (tuple, list)) and len(cfg) == 2 and (
            (cfg[0] == 'max' and isinstance(cfg[1], int)) or all(isinstance(c, int) and c > 0 for c in cfg))
        if not ok:
            raise ValueError(f"{owner} ms_cfg[{i}]={cfg!r} is not a branch: use (kernel, dilation) with positive "
                             "ints, ('max', kernel) or '1x1'")


def split_channels(out_channels: int, num_branches: int, mid_channels: float | None = None,
                   remainder: str = 'first') -> list[int]:
    """Channels per branch: ``out_channels`` split evenly with the remainder on the ``'first'`` or
    ``'last'`` branch, or ``int(out_channels * mid_channels)`` each when that fraction is given."""
    if mid_channels is not None:
        if not (isinstance(mid_channels, float) and mid_channels > 0):
            raise ValueError(f'mid_channels={mid_channels!r} must be a positive fraction (float)')
        return [int(out_channels * mid_channels)] * num_branches
    if remainder not in ('first', 'last'):
        raise ValueError(f"remainder={remainder!r}: choose 'first' or 'last'")
    each = out_channels // num_branches
    rest = out_channels - each * (num_branches - 1)
    channels = [each] * num_branches
    channels[0 if remainder == 'first' else -1] = rest
    if min(channels) < 1:
        raise ValueError(f'{out_channels} channels do not split over {num_branches} branches')
    return channels


class MSTCN(nn.Module):
    """Multi-scale temporal convolution (see the module docstring for the three forms).

    Args:
        in_channels, out_channels: feature channels.
        ms_cfg: the branches.
        stride: temporal stride (every branch carries it).
        mid_channels: channels per branch as a fraction of ``out_channels`` (None: an even split).
        remainder: which branch takes the remainder of an even split, 'first' or 'last'.
        branch_norm: a norm at the end of every branch (after the temporal conv or the max-pool, and
            after the '1x1' convolution).
        transform: norm, activation and a 1x1 convolution over the concatenation, then ``bn``.
        residual: add the input (identity, or a strided 1x1 ``UnitTCN``) before ``out_act``.
        out_act: an activation at the end.
        dropout: dropout on the output.
        norm, act: the norm and activation used throughout.
        impl: 'fast' or 'reference' (see the module docstring); the fast path needs plain BatchNorm
            ('BN') and otherwise runs the reference one.
    """

    def __init__(self, in_channels: int, out_channels: int, ms_cfg=DEFAULT_MS_CFG, stride: int = 1,
                 mid_channels: float | None = None, remainder: str = 'first', branch_norm: bool = False,
                 transform: bool = True, residual: bool = False, out_act: bool = False, dropout: float = 0.0,
                 norm='BN', act='ReLU', impl: str = 'fast'):
        super().__init__()
        owner = type(self).__name__
        self.impl = check_impl(owner, impl)
        check_ms_cfg(owner, ms_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.ms_cfg = ms_cfg
        self.stride = stride
        self.num_branches = len(ms_cfg)
        self.branch_channels = split_channels(out_channels, self.num_branches, mid_channels, remainder)
        self.act = build_activation(act)

        branches = []
        for cfg, channels in zip(ms_cfg, self.branch_channels):
            if cfg == '1x1':
                conv = nn.Conv2d(in_channels, channels, kernel_size=1, stride=(stride, 1))
                branches.append(nn.Sequential(conv, build_norm(norm, channels)) if branch_norm else conv)
                continue
            layers = [nn.Conv2d(in_channels, channels, kernel_size=1), build_norm(norm, channels), self.act]
            if cfg[0] == 'max':
                kernel = cfg[1]
                layers.append(nn.MaxPool2d(kernel_size=(kernel, 1), stride=(stride, 1), padding=((kernel - 1) // 2, 0)))
                if branch_norm:
                    layers.append(build_norm(norm, channels))
            else:
                layers.append(UnitTCN(channels, channels, kernel_size=cfg[0], stride=stride, dilation=cfg[1],
                                      norm=norm if branch_norm else None))
            branches.append(nn.Sequential(*layers))
        self.branches = nn.ModuleList(branches)

        concat_channels = sum(self.branch_channels)
        if transform:
            self.transform = nn.Sequential(build_norm(norm, concat_channels), self.act,
                                           nn.Conv2d(concat_channels, out_channels, kernel_size=1))
            self.bn = build_norm(norm, out_channels)
        elif concat_channels != out_channels:
            raise ValueError(f'{owner}: without transform the branches must give out_channels={out_channels} '
                             f'channels, they give {concat_channels}')
        self.has_transform = transform
        self.branch_norm = branch_norm
        self.residual = block_residual(in_channels, out_channels, stride, residual)
        self.out_act = out_act
        self.drop = nn.Dropout(dropout)

    @property
    def fast(self) -> bool:
        """Whether ``forward`` takes the fast path, asked at every call (see ``fused.fused_norms``)."""
        return self.impl == 'fast' and fused_norms(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fast:
            return from_channel_major(self.forward_channel_major(to_channel_major(x)))
        return self.forward_reference(x)

    def forward_branches(self, x: torch.Tensor) -> torch.Tensor:
        """The branches' outputs concatenated over channels: ``(N, sum(branch_channels), T', V)``."""
        return torch.cat([branch(x) for branch in self.branches], dim=1)

    def combine(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """From the concatenated branches ``out`` to the output: transform, residual of the input ``x``,
        activation, dropout."""
        if self.has_transform:
            out = self.bn(self.transform(out))
        if self.residual is not None:
            out = out + self.residual(x)
        if self.out_act:
            out = self.act(out)
        return self.drop(out)

    def forward_reference(self, x: torch.Tensor) -> torch.Tensor:
        return self.combine(self.forward_branches(x), x)

    def forward_channel_major(self, x: torch.Tensor) -> torch.Tensor:
        """The fast path on ``(C, N, T, V)`` (see ``fused.py``)."""
        return self.combine_channel_major(self.branches_channel_major(x), x)

    def branches_channel_major(self, x: torch.Tensor) -> torch.Tensor:
        """``forward_branches`` on a channel-major ``x``: ``(sum(branch_channels), N, T', V)``."""
        # one product for the branch reductions: weights concatenated at forward time, one BN over
        # the reduced channels (folded into the product in eval)
        reduced = [i for i, cfg in enumerate(self.ms_cfg) if cfg != '1x1']
        parts = [(self.branches[i][0], self.branches[i][1]) for i in reduced]
        outs = dict(zip(reduced, conv_bn(x, parts, self.training))) if parts else {}
        for i, branch in enumerate(self.branches):
            if i not in outs:  # '1x1': a strided product, its BN folded in eval
                conv_norm = (branch[0], branch[1]) if self.branch_norm else (branch, None)
                outs[i] = conv_bn(x, [conv_norm], self.training, self.stride)[0]
            elif isinstance(branch[3], nn.MaxPool2d):
                outs[i] = temporal_max_pool(act_(branch[2], outs[i]), branch[3])
                if self.branch_norm:
                    outs[i] = batch_norm(outs[i], branch[4], self.training)
            else:  # the temporal convolution, with its BN (folded in eval) in the branch-norm form
                tcn = branch[3]
                bn = tcn.bn if self.branch_norm else None
                outs[i] = tcn.drop(act_temporal_conv(outs[i], branch[2], tcn.conv, bn, self.training))
        return torch.cat([outs[i] for i in range(self.num_branches)])

    def combine_channel_major(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``combine`` on channel-major tensors: the transform (norm, activation, the 1x1 convolution
        with ``bn`` folded in eval), the residual of ``x``, the activation, dropout."""
        if self.has_transform:
            feat = act_(self.transform[1], batch_norm(out, self.transform[0], self.training))
            out = conv_bn(feat, [(self.transform[2], self.bn)], self.training)[0]
        if isinstance(self.residual, nn.Identity):
            out = add_(out, x)
        elif self.residual is not None:  # a strided 1x1 product, its BN folded in eval
            out = add_(out, self.residual.forward_channel_major(x))
        if self.out_act:
            out = act_(self.act, out)
        return self.drop(out)
