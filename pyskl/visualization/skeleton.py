"""Render a skeleton sequence as an animated GIF or MP4 with the graph's bones drawn,
so a user can check the data and the joint layout by eye.

Keypoints are ``M x T x V x C``: C = 2 (image coordinates, y down) or C = 3
(3D camera coordinates, y up, as NTU stores them). A person whose joints are
all zero in a frame is absent there (NTU's padding) and is not drawn.
"""
import os
import shutil
from pathlib import Path
from typing import Optional, Union

import numpy as np

from pyskl.skeleton import Layout, get_layout, layout_by_joints
from pyskl.utils.annotation_files import find_sample, read_annotation_file
from pyskl.utils.fileio import atomic_path

PathLike = Union[str, os.PathLike]
PERSON_COLOURS = ('tab:blue', 'tab:red', 'tab:green', 'tab:purple', 'tab:orange')


def as_mtvc(keypoint: np.ndarray, source: str = 'the array') -> np.ndarray:
    """``T x V x C`` or ``M x T x V x C`` -> ``M x T x V x C`` float32."""
    keypoint = np.asarray(keypoint)
    if keypoint.ndim == 3:
        keypoint = keypoint[None]  # T, V, C -> 1, T, V, C
    if keypoint.ndim != 4:
        raise ValueError(f'{source}: keypoints must be T x V x C or M x T x V x C, got shape {keypoint.shape}')
    if keypoint.shape[-1] not in (2, 3):
        raise ValueError(f'{source}: the last axis must hold 2 or 3 coordinates, got shape {keypoint.shape}')
    if keypoint.shape[1] == 0:
        raise ValueError(f'{source}: the sequence has no frames')
    return keypoint.astype(np.float32)


def infer_layout(num_joints: int) -> Layout:
    """The built-in layout with ``num_joints`` joints (``--layout`` names another)."""
    try:
        return layout_by_joints(num_joints)
    except ValueError as err:
        raise ValueError(f'{err} with --layout') from None


def load_annotation_sample(ann_file: PathLike, frame_dir: Optional[str] = None,
                           index: Optional[int] = None) -> dict:
    """One sample (by ``frame_dir``, else by position ``index``, default 0) of an annotation pickle."""
    ann_file = os.fspath(ann_file)
    samples, _ = read_annotation_file(ann_file)
    sample = find_sample(samples, frame_dir, index, ann_file)
    if 'keypoint' not in sample:
        raise KeyError(f"{ann_file}: sample {sample.get('frame_dir')!r} has no 'keypoint'")
    sample = dict(sample)
    sample['keypoint'] = as_mtvc(sample['keypoint'], f"{ann_file}: sample {sample.get('frame_dir')!r}")
    return sample


def _limits(points: np.ndarray, margin: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre, half = (lo + hi) / 2, max((hi - lo).max() / 2, 1e-3) * (1 + margin)
    return centre - half, centre + half


def render_skeleton(keypoint: np.ndarray, out_file: PathLike, layout: Union[str, dict, Layout, None] = None,
                    mode: str = 'auto', fps: float = 15, step: int = 1, title: Optional[str] = None,
                    size: float = 4.5, elev: float = 15, azim: float = -70) -> Path:
    """Write the sequence to ``out_file`` (``.gif``, or ``.mp4`` where ffmpeg is installed).

    Args:
        keypoint: ``T x V x C`` or ``M x T x V x C``.
        layout: the graph layout (name or dict); default inferred from V.
        mode: ``'2d'`` (front view: x right, y up; image y down for C = 2),
            ``'3d'`` (needs C = 3) or ``'auto'`` (3d for C = 3).
        step: draw every ``step``-th frame.
    Returns the path written; the animation has ``ceil(T / step)`` frames.
    """
    from matplotlib import animation
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out_file = Path(out_file)
    kp = as_mtvc(keypoint)
    M, T, V, C = kp.shape
    layout = infer_layout(V) if layout is None else get_layout(layout)
    if layout.num_node != V:
        raise ValueError(f'layout {layout.name!r} has {layout.num_node} joints but the keypoints have {V}')
    if mode == 'auto':
        mode = '3d' if C == 3 else '2d'
    if mode not in ('2d', '3d'):
        raise ValueError(f"mode must be '2d', '3d' or 'auto', got {mode!r}")
    if mode == '3d' and C != 3:
        raise ValueError('a 3d view needs 3D keypoints (C = 3)')
    if not isinstance(step, int) or step < 1:
        raise ValueError(f'step must be a positive int, got {step!r}')
    suffix = out_file.suffix.lower()
    if suffix == '.gif':
        writer = animation.PillowWriter(fps=fps)
    elif suffix == '.mp4':
        if shutil.which('ffmpeg') is None:
            raise RuntimeError('writing .mp4 needs ffmpeg on the PATH; write a .gif instead')
        writer = animation.FFMpegWriter(fps=fps)
    else:
        raise ValueError(f'out_file must end with .gif or .mp4, got {out_file.name!r}')

    present = np.any(kp != 0, axis=-1)  # M, T, V
    visible = kp[present]
    if not len(visible):
        raise ValueError('every joint of every frame is zero: nothing to draw')
    frames = list(range(0, T, step))

    fig = Figure(figsize=(size, size), dpi=80)
    FigureCanvasAgg(fig)
    if mode == '3d':
        ax = fig.add_subplot(1, 1, 1, projection='3d')
        # data (x, y up, z depth) -> plot (x, z, y) so that y is vertical on screen
        to_plot = [0, 2, 1]
        lo, hi = _limits(visible[:, to_plot])
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_zlim(lo[2], hi[2])
        ax.set_xlabel('x')
        ax.set_ylabel('z (depth)')
        ax.set_zlabel('y')
        ax.view_init(elev=elev, azim=azim)
    else:
        ax = fig.add_subplot(1, 1, 1)
        to_plot = [0, 1]
        lo, hi = _limits(visible[:, :2])
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        if C == 2:
            ax.invert_yaxis()  # image coordinates: y grows downwards
        ax.set_aspect('equal')
    fig.tight_layout()

    bones, joints = [], []
    for m in range(M):
        colour = PERSON_COLOURS[m % len(PERSON_COLOURS)]
        bones.append([ax.plot(*([[]] * len(to_plot)), '-', color=colour, linewidth=2)[0] for _ in layout.inward])
        joints.append(ax.plot(*([[]] * len(to_plot)), 'o', color=colour, markersize=3)[0])
    label = ax.set_title('', fontsize=9) if mode == '2d' else ax.text2D(0.02, 0.95, '', transform=ax.transAxes,
                                                                        fontsize=9)

    def draw(t: int):
        for m in range(M):
            pts = kp[m, t][:, to_plot]
            ok = present[m, t]
            for line, (a, b) in zip(bones[m], layout.inward):
                seg = pts[[a, b]] if ok[a] and ok[b] else np.full((2, len(to_plot)), np.nan)
                if mode == '3d':
                    line.set_data(seg[:, 0], seg[:, 1])
                    line.set_3d_properties(seg[:, 2])
                else:
                    line.set_data(seg[:, 0], seg[:, 1])
            shown = np.where(ok[:, None], pts, np.nan)
            if mode == '3d':
                joints[m].set_data(shown[:, 0], shown[:, 1])
                joints[m].set_3d_properties(shown[:, 2])
            else:
                joints[m].set_data(shown[:, 0], shown[:, 1])
        text = f'{title + chr(10) if title else ""}frame {t + 1}/{T}'
        label.set_text(text)
        return []

    anim = animation.FuncAnimation(fig, draw, frames=frames, blit=False, repeat=False)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_file, keep_suffix=True) as tmp:
        anim.save(str(tmp), writer=writer)
    return out_file
