"""Skeleton graphs: the adjacency matrices built from a layout (:mod:`pyskl.skeleton`)."""
import numpy as np

from pyskl.skeleton import LAYOUTS, Layout, get_layout  # noqa: F401 - LAYOUTS, Layout re-exported


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
      - ``stgcn_spatial``: ST-GCN's spatial partition: what a joint receives from itself, from
        neighbours at least as far from the centre joint as itself, and from neighbours closer to it,
        all three normalised together by the receiving joint's degree (self loop included). As in the
        original, distances to the centre count only up to ``max_hop``: joints farther away are all
        equally "far";
      - ``binary_adj``: one 0/1 matrix of the (undirected) edges;
      - ``random``: ``num_filter`` matrices drawn from N(init_off, init_std^2),
        the learnable starting point of DG-STGCN (drawn from a local generator
        seeded by ``seed``, never numpy's global state).
    """

    modes = ('spatial', 'stgcn_spatial', 'binary_adj', 'random')

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

    def stgcn_spatial(self) -> np.ndarray:
        # A[k, i, j]: what joint i sends to joint j (features are multiplied from the right)
        adjacency = (self.hop_dis <= self.max_hop).astype(float)
        adjacency = normalize_digraph(adjacency)
        to_centre = self.hop_dis[:, self.center]
        sender, receiver = to_centre[:, None], to_centre[None, :]
        is_self = np.eye(self.num_node, dtype=bool)
        neighbour = (self.hop_dis <= self.max_hop) & ~is_self
        root = np.where(is_self, adjacency, 0)
        farther = np.where(neighbour & (sender >= receiver), adjacency, 0)
        closer = np.where(neighbour & (sender < receiver), adjacency, 0)
        return np.stack((root, farther, closer))

    def binary_adj(self) -> np.ndarray:
        return edge2mat(self.inward + self.outward, self.num_node)[None]

    def random(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        shape = (self.num_filter, self.num_node, self.num_node)
        return rng.standard_normal(shape) * self.init_std + self.init_off
