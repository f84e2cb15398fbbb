"""DecompressPose against hand-computed cases: which boxes survive, person order, squeezed frames."""
import re

import numpy as np
import pytest

from pyskl.datasets.transforms import DecompressPose


def boxes(frame_inds=(0, 0, 0, 2, 2, 4), scores=(0.2, 0.9, 0.5, 0.15, 0.35, 0.3), total_frames=5, **extra):
    """Box b has both joints at x = 10 b, y = b and joint score scores[b] (its summed score: 2 scores[b])."""
    n = len(frame_inds)
    keypoint = np.zeros((n, 2, 3), np.float16)
    keypoint[..., 0] = 10 * np.arange(n)[:, None]
    keypoint[..., 1] = np.arange(n)[:, None]
    keypoint[..., 2] = np.asarray(scores)[:, None]
    return dict(frame_dir='vid', keypoint=keypoint, frame_inds=np.asarray(frame_inds), total_frames=total_frames,
                box_score=np.ones(n, np.float16), **extra)


def xs(results):
    return results['keypoint'][..., 0, 0].tolist()  # M x T: the box (x / 10) in each slot


def test_squeeze_ranks_persons_per_frame_and_keeps_max_person():
    out = DecompressPose(squeeze=True, max_person=2)(boxes())
    # frames 0, 2, 4 have boxes -> 3 frames; frame 0: boxes 1 (0.9), 2 (0.5), 0 (0.2, dropped);
    # frame 2: boxes 4 (0.35), 3 (0.15); frame 4: box 5
    assert out['total_frames'] == 3 and out['keypoint'].shape == (2, 3, 2, 2)
    assert xs(out) == [[10, 40, 50], [20, 30, 0]]
    np.testing.assert_allclose(out['keypoint_score'][..., 0], [[0.9, 0.35, 0.3], [0.5, 0.15, 0]], atol=1e-3)
    assert out['keypoint'].dtype == np.float16 and out['keypoint_score'].shape == (2, 3, 2)
    assert 'frame_inds' not in out and 'box_score' not in out
    np.testing.assert_array_equal(out['keypoint'][0, 0, :, 1], [1, 1])  # y of box 1


def test_without_squeeze_frames_stay_in_place():
    out = DecompressPose(squeeze=False, max_person=10)(boxes())
    assert out['total_frames'] == 5 and out['keypoint'].shape == (3, 5, 2, 2)
    assert xs(out) == [[10, 0, 40, 0, 50], [20, 0, 30, 0, 0], [0, 0, 0, 0, 0]]


def test_anno_inds_drop_boxes_before_ranking():
    out = DecompressPose(max_person=10)(boxes(anno_inds=np.array([1, 0, 1, 1, 0, 0], bool)))
    # boxes 0, 2 (frame 0) and 3 (frame 2) survive; frame 4 has none left: 2 frames
    assert out['total_frames'] == 2 and xs(out) == [[20, 30], [0, 0]]
    assert 'anno_inds' not in out


def test_equal_scores_keep_the_file_order():
    out = DecompressPose()(boxes(frame_inds=(1, 1, 1), scores=(0.5, 0.7, 0.5)))
    assert xs(out) == [[10], [0], [20]]


def test_no_box_left_gives_one_empty_frame():
    out = DecompressPose()(boxes(anno_inds=np.zeros(6, bool)))
    assert out['keypoint'].shape == (1, 1, 2, 2) and not out['keypoint'].any() and out['total_frames'] == 1
    out = DecompressPose(squeeze=False)(boxes(frame_inds=(), scores=()))
    assert out['keypoint'].shape == (1, 5, 2, 2)


@pytest.mark.parametrize('sample,field,problem', [
    (boxes(frame_inds=(0, 2, 1, 3, 4, 4)), 'frame_inds', 'not sorted'),
    (boxes(frame_inds=(0, 1, 2, 3, 4, 5)), 'frame_inds', 'frames [0, 5] lie outside [0, total_frames=5)'),
    (dict(boxes(), frame_inds=np.arange(4)), 'frame_inds', 'shape (4,) does not match 6 boxes'),
    (dict(boxes(), keypoint=np.zeros((2, 5, 17, 2))), 'keypoint', 'an uncompressed M x T x V x C sample'),
    (boxes(anno_inds=np.ones(3, bool)), 'anno_inds', 'shape (3,) does not match 6 boxes'),
])
def test_malformed_sample_names_sample_and_field(sample, field, problem):
    with pytest.raises(ValueError, match=rf"DecompressPose: sample 'vid' field '{field}': .*{re.escape(problem)}"):
        DecompressPose()(sample)


def test_missing_field_and_arguments():
    sample = boxes()
    del sample['frame_inds']
    with pytest.raises(KeyError, match="sample 'vid' has no field 'frame_inds'"):
        DecompressPose()(sample)
    with pytest.raises(ValueError, match='max_person must be a positive integer'):
        DecompressPose(max_person=0)
    assert repr(DecompressPose(squeeze=False, max_person=3)) == 'DecompressPose(squeeze=False, max_person=3)'
