import numpy as np
import pytest

from pyskl.models.graph import LAYOUTS, Graph, get_layout


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


def test_custom_layout_and_bone_pairs():
    layout = get_layout(dict(num_node=4, inward=[(1, 0), (2, 1), (3, 1)], center=0))
    assert layout.bone_pairs == ((0, 0), (1, 0), (2, 1), (3, 1))
    g = Graph(dict(num_node=4, inward=[(1, 0), (2, 1), (3, 1)], center=0), 'spatial')
    assert g.A.shape == (3, 4, 4)


def test_nturgbd_bone_pairs_point_to_parent():
    pairs = dict(get_layout('nturgb+d').bone_pairs)
    assert pairs[20] == 20 and pairs[0] == 1 and pairs[3] == 2 and pairs[21] == 22


@pytest.mark.parametrize('name', ['nturgb+d', 'openpose', 'coco', 'nw-ucla'])
def test_mirror_pairs_map_the_skeleton_onto_itself(name):
    """Swapping every left joint with its right twin must turn each bone into a bone."""
    layout = get_layout(name)
    swap = {v: v for v in range(layout.num_node)}
    for left, right in layout.mirror_pairs:
        swap[left], swap[right] = right, left
    bones = {frozenset(edge) for edge in layout.inward}
    assert {frozenset((swap[a], swap[b])) for a, b in layout.inward} == bones
    assert swap[layout.center] == layout.center
    assert len(layout.mirror_pairs) >= 6  # arms and legs at least


def test_custom_layout_mirror_pairs():
    layout = get_layout(dict(num_node=3, inward=[(1, 0), (2, 0)], center=0, mirror_pairs=[(1, 2)]))
    assert layout.mirror_pairs == ((1, 2), )
    assert get_layout(dict(num_node=3, inward=[(1, 0)], center=0)).mirror_pairs == ()


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
