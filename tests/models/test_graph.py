import numpy as np
import pytest

from pyskl.models.graph import Graph
from pyskl.skeleton import LAYOUTS


@pytest.mark.parametrize('layout,num_node', [('nturgb+d', 25), ('coco', 17), ('openpose', 18), ('nw-ucla', 20)])
def test_spatial_is_identity_inward_outward(layout, num_node):
    g = Graph(layout, 'spatial')
    assert g.A.shape == (3, num_node, num_node)
    np.testing.assert_array_equal(g.A[0], np.eye(num_node))
    inward, outward = g.A[1], g.A[2]
    # each column sums to 1 where the joint has an edge of that direction, 0 elsewhere
    for A in (inward, outward):
        col = A.sum(0)
        assert np.allclose(col[col > 0], 1)
    # inward and outward are the same edges in opposite directions
    np.testing.assert_array_equal(inward > 0, (outward > 0).T)
    assert (inward > 0).sum() == len(LAYOUTS[layout].inward)


def test_spatial_hand_computed_small_chain():
    # 0 -> 1 <- 2 (both point to the centre 1)
    g = Graph(dict(num_node=3, inward=[(0, 1), (2, 1)], center=1), 'spatial')
    expected_in = np.zeros((3, 3))
    expected_in[1, 0] = expected_in[1, 2] = 1  # A[parent, child]
    np.testing.assert_array_equal(g.A[1], expected_in)
    expected_out = np.zeros((3, 3))
    expected_out[0, 1] = expected_out[2, 1] = 0.5  # joint 1 sends to two children
    np.testing.assert_array_equal(g.A[2], expected_out)


def test_binary_adj_symmetric_without_self_loops():
    g = Graph('nturgb+d', 'binary_adj')
    assert g.A.shape == (1, 25, 25)
    np.testing.assert_array_equal(g.A[0], g.A[0].T)
    assert set(np.unique(g.A)) == {0.0, 1.0}
    assert np.trace(g.A[0]) == 0


def test_random_mode_uses_local_generator():
    state = np.random.get_state()
    g1 = Graph('nturgb+d', 'random', num_filter=8, init_off=0.04, init_std=0.02)
    g2 = Graph('nturgb+d', 'random', num_filter=8, init_off=0.04, init_std=0.02)
    assert np.array_equal(np.random.get_state()[1], state[1])
    assert g1.A.shape == (8, 25, 25)
    np.testing.assert_array_equal(g1.A, g2.A)
    assert abs(g1.A.mean() - 0.04) < 0.005 and abs(g1.A.std() - 0.02) < 0.005
    assert not np.array_equal(g1.A, Graph('nturgb+d', 'random', num_filter=8, seed=1).A)


@pytest.mark.parametrize('bad,match', [
    (dict(num_node=3, inward=[(0, 5)], center=0), 'edge'),
    (dict(num_node=3, inward=[(0, 1)], center=0, mirror_pairs=[(1, 3)]), 'mirror_pairs'),
    (dict(num_node=3, inward=[(0, 1)], center=0, mirror_pairs=[(1, 2), (2, 0)]), 'mirror_pairs'),
    (dict(num_node=3, inward=[(0, 1)], center=0, mirror_pairs=[(1, 2, 0)]), 'mirror_pairs'),
    (dict(num_node=3, inward=[(0, 1)], center=0, mirror_pairs=[1, 2]), 'mirror_pairs'),
    (dict(num_node=3, inward=[(0, 1)], center=7), 'center'),
    (dict(num_node=3, inward=[(0, 1)]), 'missing'),
    ('ntu', 'unknown graph layout'),
])
def test_bad_layouts(bad, match):
    with pytest.raises((ValueError, KeyError), match=match):
        Graph(bad, 'spatial')


def test_unknown_mode():
    with pytest.raises(ValueError, match='unknown graph mode'):
        Graph('coco', 'spatal')
