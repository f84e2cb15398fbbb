"""Skeleton layouts: joints, their names, bones and left/right twins.

A layout is a number of joints, the ``inward`` edges (child -> parent, 0-based,
pointing towards the centre joint) and the centre joint; the bone stream's
``bone_pairs`` and the mirror's ``mirror_pairs`` come with it. The built-in layouts
are the ones the original PYSKL ships plus NW-UCLA's Kinect v1 skeleton and Toyota
Smarthome's 13-joint LCR-Net++ skeleton; any other
skeleton can be given in the config as ``layout=dict(num_node=..., inward=[(child,
parent), ...], center=...)`` with no code change.

The model's graph (:mod:`pyskl.models.graph`), the transforms, the dataset, the
converters and the visualiser all read layouts from here, so data code does not
depend on the model package.
"""
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Layout:
    name: str
    num_node: int
    inward: tuple  # (child, parent) pairs, 0-based
    center: int
    # (joint, reference joint) for the bone stream; derived from ``inward``
    # where not given (the centre and any joint without a parent point to themselves).
    bone_pairs: tuple = field(default=None)
    # (left joint, right joint) twins, for mirroring a skeleton (``RandomFlip``);
    # empty where the layout does not say which side a joint is on.
    mirror_pairs: tuple = ()
    # the joints' names, in joint order (empty where not known)
    joint_names: tuple = ()

    def __post_init__(self):
        if self.num_node < 1:
            raise ValueError(f'layout {self.name!r}: num_node must be positive, got {self.num_node}')
        for edge in self.inward:
            if len(edge) != 2 or not all(0 <= int(j) < self.num_node for j in edge):
                raise ValueError(
                    f'layout {self.name!r}: edge {tuple(edge)} must join two joints in [0, {self.num_node})')
        mirrored = [int(j) for pair in self.mirror_pairs for j in pair]
        if any(len(pair) != 2 for pair in self.mirror_pairs) or len(set(mirrored)) != len(mirrored) \
                or not all(0 <= j < self.num_node for j in mirrored):
            raise ValueError(f'layout {self.name!r}: mirror_pairs {self.mirror_pairs} must be (left, right) '
                             f'pairs of distinct joints in [0, {self.num_node}), each joint in one pair at most')
        if self.joint_names and len(self.joint_names) != self.num_node:
            raise ValueError(f'layout {self.name!r}: {len(self.joint_names)} joint_names for {self.num_node} joints')
        if not 0 <= self.center < self.num_node:
            raise ValueError(f'layout {self.name!r}: center {self.center} is not a joint in [0, {self.num_node})')
        if self.bone_pairs is None:
            parent = {int(c): int(p) for c, p in self.inward}
            pairs = tuple((v, parent.get(v, v)) for v in range(self.num_node))
            object.__setattr__(self, 'bone_pairs', pairs)

    @property
    def self_link(self):
        return [(i, i) for i in range(self.num_node)]

    @property
    def outward(self):
        return [(p, c) for c, p in self.inward]


def _one_based(pairs):
    return tuple((i - 1, j - 1) for i, j in pairs)


def _one_based_parents(parents):
    """1-based reference joints, one per joint in order, as 0-based."""
    return [p - 1 for p in parents]


LAYOUTS = {
    'nturgb+d': Layout(
        'nturgb+d', 25,
        _one_based([(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9),
                    (11, 10), (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18),
                    (20, 19), (22, 8), (23, 8), (24, 12), (25, 12)]),
        center=20,
        # the graph joins hand tip and thumb to the hand; the bone stream chains them
        # (hand tip -> thumb -> hand), as the original's graph and bone features do
        bone_pairs=tuple((v, p) for v, p in enumerate(_one_based_parents(
            [2, 21, 21, 3, 21, 5, 6, 7, 21, 9, 10, 11, 1, 13, 14, 15, 1, 17, 18, 19, 21, 23, 8, 25, 12]))),
        mirror_pairs=_one_based([(5, 9), (6, 10), (7, 11), (8, 12), (13, 17), (14, 18), (15, 19), (16, 20),
                                 (22, 24), (23, 25)]),
        joint_names=('spine base', 'spine mid', 'neck', 'head', 'left shoulder', 'left elbow', 'left wrist',
                     'left hand', 'right shoulder', 'right elbow', 'right wrist', 'right hand', 'left hip', 'left knee',
                     'left ankle', 'left foot', 'right hip', 'right knee', 'right ankle', 'right foot',
                     'spine shoulder', 'left hand tip', 'left thumb', 'right hand tip', 'right thumb')),
    'openpose': Layout(
        'openpose', 18,
        ((4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8), (11, 5), (8, 2), (5, 1),
         (2, 1), (0, 1), (15, 0), (14, 0), (17, 15), (16, 14)),
        center=1,
        bone_pairs=((0, 0), (1, 0), (2, 1), (3, 2), (4, 3), (5, 1), (6, 5), (7, 6), (8, 2), (9, 8), (10, 9),
                    (11, 5), (12, 11), (13, 12), (14, 0), (15, 0), (16, 14), (17, 15)),
        mirror_pairs=((5, 2), (6, 3), (7, 4), (11, 8), (12, 9), (13, 10), (15, 14), (17, 16)),
        joint_names=('nose', 'neck', 'right shoulder', 'right elbow', 'right wrist', 'left shoulder', 'left elbow',
                     'left wrist', 'right hip', 'right knee', 'right ankle', 'left hip', 'left knee', 'left ankle',
                     'right eye', 'left eye', 'right ear', 'left ear')),
    'coco': Layout(
        'coco', 17,
        ((15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7), (7, 5), (10, 8), (8, 6), (5, 0),
         (6, 0), (1, 0), (3, 1), (2, 0), (4, 2)),
        center=0,
        bone_pairs=((0, 0), (1, 0), (2, 0), (3, 1), (4, 2), (5, 0), (6, 0), (7, 5), (8, 6), (9, 7), (10, 8),
                    (11, 0), (12, 0), (13, 11), (14, 12), (15, 13), (16, 14)),
        mirror_pairs=((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)),
        joint_names=('nose', 'left eye', 'right eye', 'left ear', 'right ear', 'left shoulder', 'right shoulder',
                     'left elbow', 'right elbow', 'left wrist', 'right wrist', 'left hip', 'right hip', 'left knee',
                     'right knee', 'left ankle', 'right ankle')),
    # Kinect v1, 20 joints; edges as listed in the dataset's README. They all
    # lead to joint 3 (shoulder centre), the root of the graph.
    'nw-ucla': Layout(
        'nw-ucla', 20,
        _one_based([(1, 2), (2, 3), (4, 3), (5, 3), (6, 5), (7, 6), (8, 7), (9, 3), (10, 9), (11, 10),
                    (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19)]),
        center=2,
        mirror_pairs=_one_based([(5, 9), (6, 10), (7, 11), (8, 12), (13, 17), (14, 18), (15, 19), (16, 20)]),
        joint_names=('hip centre', 'spine', 'shoulder centre', 'head', 'left shoulder', 'left elbow', 'left wrist',
                     'left hand', 'right shoulder', 'right elbow', 'right wrist', 'right hand', 'left hip',
                     'left knee', 'left ankle', 'left foot', 'right hip', 'right knee', 'right ankle', 'right foot')),
    # Toyota Smarthome's LCR-Net++ skeleton, 13 joints in LCR-Net's order (right before left, from
    # the feet up, the head last). It has no neck or pelvis joint, so the tree is rooted at the
    # head: each side's ankle -> knee -> hip -> shoulder -> head, wrist -> elbow -> shoulder. The
    # same layout serves the 3D (x, y, z) and the 2D (pixel x, y) keypoints of the release.
    'smarthome13': Layout(
        'smarthome13', 13,
        ((0, 2), (2, 4), (4, 10), (10, 12), (1, 3), (3, 5), (5, 11), (11, 12), (6, 8), (8, 10), (7, 9),
         (9, 11)),
        center=12,
        mirror_pairs=((1, 0), (3, 2), (5, 4), (7, 6), (9, 8), (11, 10)),
        joint_names=('right ankle', 'left ankle', 'right knee', 'left knee', 'right hip', 'left hip', 'right wrist',
                     'left wrist', 'right elbow', 'left elbow', 'right shoulder', 'left shoulder', 'head')),
}


#: The built-in layout of each joint count a pose source commonly gives.
LAYOUT_BY_JOINTS = {layout.num_node: name for name, layout in LAYOUTS.items()}


def layout_by_joints(num_joints: int) -> Layout:
    """The built-in layout with ``num_joints`` joints."""
    if num_joints not in LAYOUT_BY_JOINTS:
        raise ValueError(f'no built-in skeleton layout has {num_joints} joints (built-in: '
                         f'{", ".join(f"{n} {v}" for v, n in sorted(LAYOUT_BY_JOINTS.items()))}); give the layout')
    return LAYOUTS[LAYOUT_BY_JOINTS[num_joints]]


def get_layout(layout) -> Layout:
    """A built-in layout by name, or a custom one from a dict
    ``dict(num_node=V, inward=[(child, parent), ...], center=c)`` (``bone_pairs`` and
    ``mirror_pairs`` optional)."""
    if isinstance(layout, Layout):
        return layout
    if isinstance(layout, str):
        if layout not in LAYOUTS:
            raise ValueError(f'unknown graph layout {layout!r}; built-in layouts are {sorted(LAYOUTS)}, '
                             'or give dict(num_node=..., inward=[(child, parent), ...], center=...)')
        return LAYOUTS[layout]
    if isinstance(layout, dict):
        missing = {'num_node', 'inward', 'center'} - set(layout)
        if missing:
            raise KeyError(f'custom graph layout needs keys num_node, inward, center; missing {sorted(missing)}')
        unknown = set(layout) - {'num_node', 'inward', 'center', 'bone_pairs', 'mirror_pairs', 'joint_names', 'name'}
        if unknown:
            raise KeyError(f'custom graph layout: unknown keys {sorted(unknown)}')
        bone_pairs = layout.get('bone_pairs')
        return Layout(layout.get('name', 'custom'), int(layout['num_node']),
                      tuple((int(c), int(p)) for c, p in layout['inward']), int(layout['center']),
                      None if bone_pairs is None else tuple((int(a), int(b)) for a, b in bone_pairs),
                      tuple(tuple(int(j) for j in np.atleast_1d(pair)) for pair in layout.get('mirror_pairs', ())),
                      tuple(str(n) for n in layout.get('joint_names', ())))
    raise TypeError(f'graph layout must be a name or a dict, got {type(layout).__name__}')
