import pytest

from pyskl.skeleton import LAYOUTS, get_layout, layout_by_joints


def test_custom_layout_and_bone_pairs():
    layout = get_layout(dict(num_node=4, inward=[(1, 0), (2, 1), (3, 1)], center=0))
    assert layout.bone_pairs == ((0, 0), (1, 0), (2, 1), (3, 1))
    assert layout.joint_names == ()


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


@pytest.mark.parametrize('name', sorted(LAYOUTS))
def test_joint_names_agree_with_the_mirror_pairs(name):
    """Every (left, right) twin is named 'left X' and 'right X'; no other joint names a side."""
    layout = LAYOUTS[name]
    names = layout.joint_names
    assert len(names) == layout.num_node == len(set(names))
    for left, right in layout.mirror_pairs:
        assert names[left].startswith('left ') and names[right] == 'right ' + names[left][len('left '):]
    paired = {j for pair in layout.mirror_pairs for j in pair}
    assert all(('left' in n or 'right' in n) == (j in paired) for j, n in enumerate(names))


def test_lookup_by_name_and_by_joint_count():
    assert get_layout('coco') is LAYOUTS['coco']
    assert {V: layout_by_joints(V).name for V in (17, 18, 20, 25)} == {17: 'coco', 18: 'openpose', 20: 'nw-ucla',
                                                                        25: 'nturgb+d'}
    with pytest.raises(ValueError, match='no built-in skeleton layout has 11 joints'):
        layout_by_joints(11)
    with pytest.raises(ValueError, match='2 joint_names for 3 joints'):
        get_layout(dict(num_node=3, inward=[(1, 0)], center=0, joint_names=['a', 'b']))
