"""The temporal convolution unit: one ``(kernel, 1)`` convolution over frames, BatchNorm, dropout.

ST-GCN's temporal unit, the strided 1x1 residual of every stage-wise GCN, and the temporal branches
of the multi-scale units (:mod:`.mstcn`). Attribute names (``conv``, ``bn``) are the original PYSKL's.
"""
import torch
from torch import nn

from .builders import build_norm
from .fused import conv_bn, plain_bn, temporal_conv_bn


class UnitTCN(nn.Module):
    """Conv ``(kernel_size, 1)`` over time, then norm (optional) and dropout."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 9, stride: int = 1,
                 dilation: int = 1, norm='BN', dropout: float = 0.0):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride
        pad = (kernel_size + (kernel_size - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=(kernel_size, 1), padding=(pad, 0),
                              stride=(stride, 1), dilation=(dilation, 1))
        self.bn = build_norm(norm, out_channels) if norm is not None else nn.Identity()
        self.drop = nn.Dropout(dropout, inplace=True)

    @property
    def fast(self) -> bool:
        """Whether ``forward_channel_major`` computes this unit: its norm a plain BatchNorm, asked at
        every call (see ``fused.fused_norms``)."""
        return plain_bn(self.bn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.bn(self.conv(x)))

    def forward_channel_major(self, x: torch.Tensor) -> torch.Tensor:
        """The unit on a channel-major ``x`` ``(C, N, T, V)`` (see ``fused.py``), BatchNorm folded in
        eval: a 1x1 convolution (the residual) as one product, a longer one as a ``conv3d``."""
        if self.conv.kernel_size[0] == 1:
            return self.drop(conv_bn(x, [(self.conv, self.bn)], self.training, self.stride)[0])
        return self.drop(temporal_conv_bn(x, self.conv, self.bn, self.training))


def block_residual(in_channels: int, out_channels: int, stride: int = 1, residual: bool = True) -> nn.Module | None:
    """A stage-wise GCN block's residual: none (``residual=False``), the identity where the block keeps
    the shape, else a strided 1x1 ``UnitTCN``."""
    if not residual:
        return None
    if in_channels == out_channels and stride == 1:
        return nn.Identity()
    return UnitTCN(in_channels, out_channels, kernel_size=1, stride=stride)
