"""MS-G3D's unified spatial-temporal graph convolution (Liu et al., CVPR 2020, Sec. 3.2).

A window of ``w`` consecutive frames becomes one graph of ``w * V`` nodes (frame ``f``, joint ``v``
at position ``f * V + v``): every joint is linked to itself and to its neighbours in every frame of
the window (the adjacency plus identity, tiled ``w x w``). A multi-scale graph convolution
(:class:`~.msgcn.MSGCN`) over that windowed graph lets information jump across space and time in
one step. A ``(1, w, 1)`` convolution then collapses the window back to one frame (``out_conv``,
BatchNorm ``out_bn``, no activation). :class:`MultiWindowMSG3D` sums units of several window sizes.

Frames are cut into windows with a stride (the unit's temporal stride) and zero padding of
``(w - 1) // 2`` frames at both ends, so stride 1 keeps the frame count.

Attribute names (``gcn3d.0`` the unfolding, ``gcn3d.1`` the graph conv, ``out_conv``, ``out_bn``;
``gcn3d.<i>`` the units of :class:`MultiWindowMSG3D`) are the original PYSKL's: released checkpoints
depend on them.
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .msgcn import MSGCN


def window_adjacency(adjacency: np.ndarray, window_size: int) -> np.ndarray:
    """``(w * V, w * V)``: the adjacency plus identity, tiled over a window of ``w`` frames."""
    with_self = np.asarray(adjacency) + np.eye(len(adjacency))
    return np.tile(with_self, (window_size, window_size))


class UnfoldWindows(nn.Module):
    """Windows of frames side by side on the joint axis: ``(N, C, T, V)`` -> ``(N, C, T', w * V)``
    with ``T' = (T - 1) // stride + 1`` for an odd ``w``."""

    def __init__(self, window_size: int, window_stride: int = 1):
        super().__init__()
        self.window_size = window_size
        self.window_stride = window_stride
        self.padding = (window_size - 1) // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, C, T, V = x.shape
        w, s = self.window_size, self.window_stride
        num_windows = (T - 1) // s + 1
        x = F.pad(x, (0, 0, self.padding, self.padding))  # zero frames at both ends
        # frame f of window i is padded frame i * s + f: frame f of every window is one strided slice
        # (slices rather than Tensor.unfold, which ONNX cannot export for a variable frame count)
        span = s * (num_windows - 1) + 1
        windows = torch.stack([x[:, :, f:f + span:s] for f in range(w)], dim=3)  # N, C, T', w, V
        return windows.view(N, C, num_windows, w * V)

    def extra_repr(self) -> str:
        return f'window_size={self.window_size}, window_stride={self.window_stride}'


class MSG3DUnit(nn.Module):
    """One window size: unfold, multi-scale graph conv over the windowed graph, collapse the window.

    Args:
        in_channels, out_channels: feature channels.
        adjacency: ``(V, V)`` 0/1 adjacency of the skeleton.
        num_scales: hop distances 0 .. ``num_scales - 1`` in the windowed graph.
        window_size: frames per window (odd).
        window_stride: temporal stride.
        embed_channels: channels between the graph conv and ``out_conv`` (default ``out_channels``):
            where the channels change.
    """

    def __init__(self, in_channels: int, out_channels: int, adjacency: np.ndarray, num_scales: int,
                 window_size: int, window_stride: int = 1, embed_channels: int | None = None):
        super().__init__()
        if window_size < 1 or window_size % 2 == 0:
            raise ValueError(f'MSG3DUnit window_size={window_size} must be odd (the window is centred on a frame)')
        if window_stride < 1:
            raise ValueError(f'MSG3DUnit window_stride={window_stride} must be at least 1')
        embed_channels = out_channels if embed_channels is None else embed_channels
        self.window_size = window_size
        self.embed_channels = embed_channels
        self.gcn3d = nn.Sequential(
            UnfoldWindows(window_size, window_stride),
            MSGCN(in_channels, embed_channels, window_adjacency(adjacency, window_size), num_scales))
        self.out_conv = nn.Conv3d(embed_channels, out_channels, kernel_size=(1, window_size, 1))
        self.out_bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, _, _, V = x.shape
        x = self.gcn3d(x)  # N, C, T, V -> N, E, T', w * V
        x = x.view(N, self.embed_channels, -1, self.window_size, V)  # -> N, E, T', w, V
        x = self.out_conv(x).squeeze(3)  # -> N, C_out, T', V
        return self.out_bn(x)


class MultiWindowMSG3D(nn.Module):
    """The sum of :class:`MSG3DUnit` over several window sizes (same arguments otherwise)."""

    def __init__(self, in_channels: int, out_channels: int, adjacency: np.ndarray, num_scales: int,
                 window_sizes=(3, 5), window_stride: int = 1, embed_channels: int | None = None):
        super().__init__()
        if len(window_sizes) == 0:
            raise ValueError('MultiWindowMSG3D needs at least one window size')
        self.gcn3d = nn.ModuleList([
            MSG3DUnit(in_channels, out_channels, adjacency, num_scales, w, window_stride, embed_channels)
            for w in window_sizes])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        units = iter(self.gcn3d)
        out = next(units)(x)
        for unit in units:
            out = out + unit(x)
        return out
