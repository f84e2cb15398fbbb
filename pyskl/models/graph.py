"""Skeleton graphs: joint layouts and the adjacency matrices built from them.

A layout is a number of joints, the ``inward`` edges (child -> parent, 0-based,
pointing towards the centre joint) and the centre joint. The built-in layouts
are the ones the original PYSKL ships plus NW-UCLA's Kinect v1 skeleton; any
other skeleton can be given in the config as ``layout=dict(num_node=...,
inward=[(child, parent), ...], center=...)`` with no code change.
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


LAYOUTS = {
    'nturgb+d': Layout(
        'nturgb+d', 25,
        _one_based([(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9),
                    (11, 10), (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18),
                    (20, 19), (22, 23), (23, 8), (24, 25), (25, 12)]),
        center=20,
        mirror_pairs=_one_based([(5, 9), (6, 10), (7, 11), (8, 12), (13, 17), (14, 18), (15, 19), (16, 20),
                                 (22, 24), (23, 25)])),
    'openpose': Layout(
        'openpose', 18,
        ((4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8), (11, 5), (8, 2), (5, 1),
         (2, 1), (0, 1), (15, 0), (14, 0), (17, 15), (16, 14)),
        center=1,
        bone_pairs=((0, 0), (1, 0), (2, 1), (3, 2), (4, 3), (5, 1), (6, 5), (7, 6), (8, 2), (9, 8), (10, 9),
                    (11, 5), (12, 11), (13, 12), (14, 0), (15, 0), (16, 14), (17, 15)),
        mirror_pairs=((5, 2), (6, 3), (7, 4), (11, 8), (12, 9), (13, 10), (15, 14), (17, 16))),
    'coco': Layout(
        'coco', 17,
        ((15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7), (7, 5), (10, 8), (8, 6), (5, 0),
         (6, 0), (1, 0), (3, 1), (2, 0), (4, 2)),
        center=0,
        bone_pairs=((0, 0), (1, 0), (2, 0), (3, 1), (4, 2), (5, 0), (6, 0), (7, 5), (8, 6), (9, 7), (10, 8),
                    (11, 0), (12, 0), (13, 11), (14, 12), (15, 13), (16, 14)),
        mirror_pairs=((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))),
    # Kinect v1, 20 joints; edges as listed in the dataset's README. They all
    # lead to joint 3 (shoulder centre), the root of the graph.
    'nw-ucla': Layout(
        'nw-ucla', 20,
        _one_based([(1, 2), (2, 3), (4, 3), (5, 3), (6, 5), (7, 6), (8, 7), (9, 3), (10, 9), (11, 10),
                    (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19)]),
        center=2,
        mirror_pairs=_one_based([(5, 9), (6, 10), (7, 11), (8, 12), (13, 17), (14, 18), (15, 19), (16, 20)])),
}


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
        unknown = set(layout) - {'num_node', 'inward', 'center', 'bone_pairs', 'mirror_pairs', 'name'}
        if unknown:
            raise KeyError(f'custom graph layout: unknown keys {sorted(unknown)}')
        bone_pairs = layout.get('bone_pairs')
        return Layout(layout.get('name', 'custom'), int(layout['num_node']),
                      tuple((int(c), int(p)) for c, p in layout['inward']), int(layout['center']),
                      None if bone_pairs is None else tuple((int(a), int(b)) for a, b in bone_pairs),
                      tuple(tuple(int(j) for j in np.atleast_1d(pair)) for pair in layout.get('mirror_pairs', ())))
    raise TypeError(f'graph layout must be a name or a dict, got {type(layout).__name__}')


def edge2mat(edges, num_node: int) -> np.ndarray:
    """Adjacency with ``A[parent, child] = 1`` for each (child, parent) edge."""
    A = np.zeros((num_node, num_node))
    for i, j in edges:
        A[j, i] = 1
    return A


def normalize_digraph(A: np.ndarray) -> np.ndarray:
    """Divide each column by its sum (the in-degree seen from the source joint)."""
    degree = A.sum(0)
    scale = np.zeros_like(degree)
    scale[degree > 0] = 1.0 / degree[degree > 0]
    return A * scale[None, :]


def hop_distance(num_node: int, edges, max_hop: int = 1) -> np.ndarray:
    """Shortest path length between joints, ``inf`` beyond ``max_hop``."""
    A = np.eye(num_node)
    for i, j in edges:
        A[i, j] = A[j, i] = 1
    dist = np.full((num_node, num_node), np.inf)
    reach = [np.linalg.matrix_power(A, d) > 0 for d in range(max_hop + 1)]
    for d in range(max_hop, -1, -1):
        dist[reach[d]] = d
    return dist


class Graph:
    """The adjacency matrices of a skeleton, shape ``(num_subsets, V, V)`` in ``A``.

    Modes:
      - ``spatial``: identity, inward and outward subsets, each column-normalised;
      - ``binary_adj``: one 0/1 matrix of the (undirected) edges;
      - ``random``: ``num_filter`` matrices drawn from N(init_off, init_std^2),
        the learnable starting point of DG-STGCN (drawn from a local generator
        seeded by ``seed``, never numpy's global state).
    """

    modes = ('spatial', 'binary_adj', 'random')

    def __init__(self, layout='coco', mode='spatial', max_hop=1, nx_node=1, num_filter=3, init_std=0.02,
                 init_off=0.04, seed=0):
        self.layout = get_layout(layout)
        if mode not in self.modes:
            raise ValueError(f'unknown graph mode {mode!r}; choose one of {list(self.modes)}')
        if nx_node != 1:
            raise ValueError('nx_node > 1 (several skeletons joined in one graph) is not supported')
        self.mode = mode
        self.max_hop = max_hop
        self.num_filter = num_filter
        self.init_std = init_std
        self.init_off = init_off
        self.seed = seed
        self.num_node = self.layout.num_node
        self.center = self.layout.center
        self.inward = list(self.layout.inward)
        self.outward = self.layout.outward
        self.self_link = self.layout.self_link
        self.neighbor = self.inward + self.outward
        self.hop_dis = hop_distance(self.num_node, self.inward, max_hop)
        self.A = getattr(self, mode)()

    def __str__(self):
        return f'Graph(layout={self.layout.name!r}, mode={self.mode!r}, A={self.A.shape})'

    def spatial(self) -> np.ndarray:
        iden = edge2mat(self.self_link, self.num_node)
        inward = normalize_digraph(edge2mat(self.inward, self.num_node))
        outward = normalize_digraph(edge2mat(self.outward, self.num_node))
        return np.stack((iden, inward, outward))

    def binary_adj(self) -> np.ndarray:
        return edge2mat(self.inward + self.outward, self.num_node)[None]

    def random(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        shape = (self.num_filter, self.num_node, self.num_node)
        return rng.standard_normal(shape) * self.init_std + self.init_off
