"""Temporal convolutions: the plain unit and DG-TCN (DG-STGCN, Sec. 3.3).

DG-TCN runs several temporal branches side by side on channel groups
(``ms_cfg``: ``(kernel, dilation)`` convolutions, ``('max', kernel)`` max-pooling,
``'1x1'``), each on the joints plus one extra "global" joint (the mean over
joints). The global joint's output is added back to every joint scaled by a
learned per-joint coefficient (``add_coeff``, zero at start): the dynamic
joint-skeleton fusion.

Attribute names are the original PYSKL's: released checkpoints depend on them.
``impl`` chooses the fast path (default) or the straightforward reference, as in DG-GCN.
"""
import torch
from torch import nn

from .builders import build_activation, build_norm
from .tcn import UnitTCN
from .dggcn import check_impl
from .fused import (AppendGlobalJoint, FuseGlobalJoint, act_, act_temporal_conv, batch_norm, conv_bn,
                    from_channel_major, plain_bn, temporal_max_pool, to_channel_major)


def _check_branch(cfg, index: int):
    if cfg == '1x1':
        return
    ok = isinstance(cfg, (tuple, list)) and len(cfg) == 2 and (
        (cfg[0] == 'max' and isinstance(cfg[1], int)) or all(isinstance(c, int) and c > 0 for c in cfg))
    if not ok:
        raise ValueError(f"DGTCN ms_cfg[{index}]={cfg!r} is not a branch: use (kernel, dilation) with positive "
                         "ints, ('max', kernel) or '1x1'")


class DGTCN(nn.Module):
    """Multi-branch temporal convolution with dynamic joint-skeleton fusion.

    Args:
        in_channels, out_channels: feature channels.
        mid_channels: channels of each branch as a fraction of ``out_channels``
            (None: split ``out_channels`` evenly, the first branch taking the remainder).
        num_joints: length of ``add_coeff``; may exceed the number of joints of the data
            (the first V coefficients are used), 25 as in the original.
        dropout: dropout on the output.
        ms_cfg: the branches (see module docstring).
        stride: temporal stride.
        impl: 'fast' or 'reference' (same numbers; the fast path needs plain BatchNorm).
    """

    def __init__(self, in_channels: int, out_channels: int, mid_channels: float | None = None,
                 num_joints: int = 25, dropout: float = 0.0,
                 ms_cfg=((3, 1), (3, 2), (3, 3), (3, 4), ('max', 3), '1x1'), stride: int = 1,
                 norm='BN', act='ReLU', impl: str = 'fast'):
        super().__init__()
        self.impl = check_impl('DGTCN', impl)
        for i, cfg in enumerate(ms_cfg):
            _check_branch(cfg, i)
        num_branches = len(ms_cfg)
        if num_branches == 0:
            raise ValueError('DGTCN ms_cfg needs at least one branch')
        self.ms_cfg = ms_cfg
        self.num_branches = num_branches
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_joints = num_joints
        self.act = build_activation(act)
        self.add_coeff = nn.Parameter(torch.zeros(num_joints))
        if mid_channels is None:
            mid_channels = out_channels // num_branches
            rem_mid_channels = out_channels - mid_channels * (num_branches - 1)
        else:
            if not (isinstance(mid_channels, float) and mid_channels > 0):
                raise ValueError(f'DGTCN mid_channels={mid_channels!r} must be a positive fraction (float)')
            mid_channels = int(out_channels * mid_channels)
            rem_mid_channels = mid_channels
        self.mid_channels = mid_channels
        self.rem_mid_channels = rem_mid_channels

        branches = []
        for i, cfg in enumerate(ms_cfg):
            branch_c = rem_mid_channels if i == 0 else mid_channels
            if cfg == '1x1':
                branches.append(nn.Conv2d(in_channels, branch_c, kernel_size=1, stride=(stride, 1)))
                continue
            reduce = [nn.Conv2d(in_channels, branch_c, kernel_size=1), build_norm(norm, branch_c), self.act]
            if cfg[0] == 'max':
                kernel = cfg[1]
                temporal = nn.MaxPool2d(kernel_size=(kernel, 1), stride=(stride, 1), padding=((kernel - 1) // 2, 0))
            else:
                temporal = UnitTCN(branch_c, branch_c, kernel_size=cfg[0], stride=stride, dilation=cfg[1],
                                   norm=None)
            branches.append(nn.Sequential(*reduce, temporal))
        self.branches = nn.ModuleList(branches)

        tin_channels = mid_channels * (num_branches - 1) + rem_mid_channels
        self.transform = nn.Sequential(build_norm(norm, tin_channels), self.act,
                                       nn.Conv2d(tin_channels, out_channels, kernel_size=1))
        self.bn = build_norm(norm, out_channels)
        self.drop = nn.Dropout(dropout, inplace=True)
        self.stride = stride
        norms = [b[1] for cfg, b in zip(ms_cfg, self.branches) if cfg != '1x1'] + [self.transform[0], self.bn]
        self.fast = impl == 'fast' and all(plain_bn(m) for m in norms)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = x.shape[-1]
        if v > self.num_joints:
            raise ValueError(f'DGTCN has add_coeff for {self.num_joints} joints, the input has {v}; '
                             f'set tcn_num_joints >= {v}')
        return self.forward_fast(x) if self.fast else self.forward_reference(x)

    def forward_fast(self, x: torch.Tensor) -> torch.Tensor:
        return from_channel_major(self.forward_channel_major(to_channel_major(x)))

    def forward_channel_major(self, x: torch.Tensor) -> torch.Tensor:
        """The fast path on ``(C, N, T, V)`` (see ``fused.py``)."""
        v = x.shape[-1]
        x = AppendGlobalJoint.apply(x)  # C, N, T, V -> C, N, T, V + 1
        # one product for the branch reductions: weights concatenated at forward time, one BN over
        # the reduced channels (folded into the product in eval)
        reduced = [i for i, cfg in enumerate(self.ms_cfg) if cfg != '1x1']
        parts = [(self.branches[i][0], self.branches[i][1]) for i in reduced]
        outs = dict(zip(reduced, conv_bn(x, parts, self.training))) if parts else {}
        for i, branch in enumerate(self.branches):
            if i not in outs:  # '1x1'
                outs[i] = conv_bn(x, [(branch, None)], self.training, branch.stride[0])[0]
            elif isinstance(branch[3], nn.MaxPool2d):
                outs[i] = temporal_max_pool(act_(branch[2], outs[i]), branch[3])
            else:
                outs[i] = branch[3].drop(act_temporal_conv(outs[i], branch[2], branch[3].conv))
        out = torch.cat([outs[i] for i in range(self.num_branches)])
        feat = FuseGlobalJoint.apply(out, self.add_coeff[:v])  # C, N, T, V + 1 -> C, N, T, V
        feat = act_(self.transform[1], batch_norm(feat, self.transform[0], self.training))
        return self.drop(conv_bn(feat, [(self.transform[2], self.bn)], self.training)[0])

    def forward_reference(self, x: torch.Tensor) -> torch.Tensor:
        v = x.shape[-1]
        x = torch.cat([x, x.mean(-1, keepdim=True)], -1)  # N, C, T, V -> N, C, T, V + 1
        out = torch.cat([branch(x) for branch in self.branches], dim=1)
        local_feat, global_feat = out[..., :v], out[..., v]
        feat = local_feat + torch.einsum('nct,v->nctv', global_feat, self.add_coeff[:v])
        return self.drop(self.bn(self.transform(feat)))
