"""DG-TCN: the multi-scale temporal unit with dynamic joint-skeleton fusion (DG-STGCN, Sec. 3.3).

DG-TCN is :class:`~.mstcn.MSTCN` in its ST-GCN++ form (branches on channel groups, then
``transform`` and ``bn``) run on the joints plus one extra "global" joint, the mean over joints.
Before the transform, the global joint's branch outputs are added back to every joint, scaled by a
learned per-joint coefficient (``add_coeff``, zero at start): the dynamic joint-skeleton fusion.

Attribute names are the original PYSKL's: released checkpoints depend on them.
``impl`` chooses the fast path (default) or the straightforward reference, as in MSTCN and DG-GCN.
"""
import torch
from torch import nn

from .fused import AppendGlobalJoint, FuseGlobalJoint
from .mstcn import DEFAULT_MS_CFG, MSTCN


class DGTCN(MSTCN):
    """Multi-branch temporal convolution with dynamic joint-skeleton fusion.

    Args:
        in_channels, out_channels: feature channels.
        mid_channels: channels of each branch as a fraction of ``out_channels``
            (None: split ``out_channels`` evenly, the first branch taking the remainder).
        num_joints: length of ``add_coeff``; may exceed the number of joints of the data
            (the first V coefficients are used), 25 as in the original.
        dropout: dropout on the output.
        ms_cfg: the branches (see :mod:`.mstcn`).
        stride: temporal stride.
        norm, act: the norm and activation used throughout.
        impl: 'fast' or 'reference' (same numbers; the fast path needs plain BatchNorm).
    """

    def __init__(self, in_channels: int, out_channels: int, mid_channels: float | None = None,
                 num_joints: int = 25, dropout: float = 0.0, ms_cfg=DEFAULT_MS_CFG, stride: int = 1,
                 norm='BN', act='ReLU', impl: str = 'fast'):
        super().__init__(in_channels, out_channels, ms_cfg=ms_cfg, stride=stride, mid_channels=mid_channels,
                         remainder='first', dropout=dropout, norm=norm, act=act, impl=impl)
        self.num_joints = num_joints
        self.add_coeff = nn.Parameter(torch.zeros(num_joints))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = x.shape[-1]
        if v > self.num_joints:
            raise ValueError(f'DGTCN has add_coeff for {self.num_joints} joints, the input has {v}; '
                             f'set tcn_num_joints >= {v}')
        return super().forward(x)

    def forward_reference(self, x: torch.Tensor) -> torch.Tensor:
        v = x.shape[-1]
        x = torch.cat([x, x.mean(-1, keepdim=True)], -1)  # N, C, T, V -> N, C, T, V + 1
        out = self.forward_branches(x)
        local_feat, global_feat = out[..., :v], out[..., v]
        feat = local_feat + torch.einsum('nct,v->nctv', global_feat, self.add_coeff[:v])
        return self.combine(feat, x)

    def forward_channel_major(self, x: torch.Tensor) -> torch.Tensor:
        """The fast path on ``(C, N, T, V)`` (see ``fused.py``)."""
        v = x.shape[-1]
        out = self.branches_channel_major(AppendGlobalJoint.apply(x))  # C, N, T, V -> C', N, T', V + 1
        feat = FuseGlobalJoint.apply(out, self.add_coeff[:v])  # C', N, T', V + 1 -> C', N, T', V
        return self.combine_channel_major(feat, x)
