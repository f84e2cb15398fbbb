"""PoseDataset on the compressed Kinetics form, kpfiles read directly: box_thr / valid_ratio against
hand-computed cases, and malformed kpfiles or boxes named by kpfile, video and field."""
import os
import pickle

import numpy as np
import pytest
from kinetics_files import video, write_kinetics

from pyskl.datasets import PoseDataset
from pyskl.datasets.kpfiles import KpfileError, resolve_kpfile

DECOMPRESS = [dict(type='DecompressPose', squeeze=True, max_person=10)]


@pytest.fixture
def three(tmp_path):
    videos = [
        # 'a': 10 frames, boxes in frames 0, 0, 1, 3, 3, 5: with box_thr 0.5, frames 0, 3, 5 keep one (3 of 10)
        video('a', [0, 0, 1, 3, 3, 5], [0.9, 0.3, 0.4, 0.6, 0.8, 0.5], label=1),
        # 'b': 4 frames, all with a box >= 0.5 (4 of 4)
        video('b', [0, 1, 2, 3], [0.7, 0.7, 0.9, 0.5], total_frames=4, label=2, kpfile='part_1.pkl'),
        # 'c': 5 frames, one box >= 0.5 (1 of 5)
        video('c', [1, 2], [0.2, 0.95], total_frames=5, label=3, kpfile='part_1.pkl'),
    ]
    return write_kinetics(tmp_path, videos, split=dict(train=['a', 'b', 'c'], val=['b']))


def names(ds):
    return [ds.get_data_info(i)['frame_dir'] for i in range(len(ds))]


def test_valid_ratio_keeps_videos_by_their_valid_frames(three):
    ann, kp = three
    assert names(PoseDataset(ann, kpfile_dir=kp, box_thr=0.5, valid_ratio=0.3)) == ['a', 'b']  # c: 1/5 = 0.2
    assert names(PoseDataset(ann, kpfile_dir=kp, box_thr=0.5, valid_ratio=0.2)) == ['a', 'b', 'c']
    assert names(PoseDataset(ann, kpfile_dir=kp, box_thr=0.5, valid_ratio=0.5)) == ['b']
    # 0.55 is not in 'valid': counted from the boxes (a: frames 0, 3 -> 2/10; c: 1/5)
    ds = PoseDataset(ann, kpfile_dir=kp, box_thr=0.55, valid_ratio=0.25)
    assert names(ds) == ['b'] and ds.num_dropped_by_valid_ratio == 2


def test_box_thr_keeps_boxes_through_decompress(three):
    ann, kp = three
    ds = PoseDataset(ann, kpfile_dir=kp, box_thr=0.5, pipeline=DECOMPRESS, split='train')
    np.testing.assert_array_equal(ds.get_data_info(0)['anno_inds'], [1, 0, 0, 1, 1, 1])
    out = ds[0]
    # boxes 0 (frame 0), 3 and 4 (frame 3), 5 (frame 5) survive; squeezed: 3 frames;
    # frame 3: box 4 (0.8) before box 3 (0.6)
    assert out['total_frames'] == 3 and out['keypoint'].shape == (2, 3, 17, 2)
    np.testing.assert_array_equal(out['keypoint'][:, :, 0, 0], [[100, 104, 105], [0, 103, 0]])
    np.testing.assert_allclose(out['keypoint_score'][:, :, 0], [[0.9, 0.8, 0.5], [0, 0.6, 0]], atol=1e-3)
    assert out['label'] == 1 and out['img_shape'] == (100, 200)
    # without box_thr every box is kept: frames 0, 1, 3, 5
    out = PoseDataset(ann, kpfile_dir=kp, pipeline=DECOMPRESS)[0]
    assert out['total_frames'] == 4
    np.testing.assert_array_equal(out['keypoint'][:, :, 0, 0], [[100, 102, 104, 105], [101, 0, 103, 0]])


def test_kpfile_paths(tmp_path):
    assert resolve_kpfile('/lost/kpfiles/p.pkl', 'd/ann.pkl', 'here/kp') == os.path.join('here/kp', 'p.pkl')
    assert resolve_kpfile('kp/p.pkl', 'd/ann.pkl') == os.path.join('d', 'kp/p.pkl')
    assert resolve_kpfile('/abs/p.pkl', 'd/ann.pkl') == '/abs/p.pkl'


def _bad_kpfile_cases():
    good = video('bad', [0, 1], [0.9, 0.9])
    wrong_shape = {'bad': dict(keypoint=np.zeros((2, 17, 2)))}
    nan = {'bad': dict(keypoint=good[1].astype(np.float32))}
    nan['bad']['keypoint'][1, 4, 0] = np.nan
    return [
        ({'bad': dict(keypoint=np.zeros((3, 17, 3)))}, "video 'bad' field 'keypoint': 3 boxes, but the annotation has 2"),
        (wrong_shape, "video 'bad' field 'keypoint': expected N_boxes x V x 3 (x, y, score), got shape (2, 17, 2)"),
        (nan, "video 'bad' field 'keypoint': 1 NaN/inf value(s), the first at box 1, joint 4, channel 0"),
        ({'other': dict(keypoint=good[1])}, "video 'bad' is not in its kpfile"),
        ({'bad': [1, 2]}, "video 'bad' field 'keypoint': missing"),
        ([1, 2], 'a kpfile must be a dict'),
    ]


@pytest.mark.parametrize('content,problem', _bad_kpfile_cases())
def test_malformed_kpfile_names_kpfile_video_and_field(tmp_path, content, problem):
    ann, kp = write_kinetics(tmp_path, [video('bad', [0, 1], [0.9, 0.9], kpfile='part_9.pkl'),
                                        video('good', [0], [0.9])], kpfiles={'part_9.pkl': content})
    ds = PoseDataset(ann, kpfile_dir=kp)
    ds.get_data_info(1)
    with pytest.raises(KpfileError) as info:
        ds.get_data_info(0)
    assert str(info.value).startswith(os.path.join(kp, 'part_9.pkl') + ': ') and problem in str(info.value)


def test_missing_or_unsafe_kpfile(tmp_path):
    ann, kp = write_kinetics(tmp_path, [video('v', [0], [0.9], kpfile='gone.pkl')], kpfiles={'gone.pkl': None})
    with pytest.raises(KpfileError, match=r'gone.pkl: kpfile not found'):
        PoseDataset(ann, kpfile_dir=kp).get_data_info(0)

    class Boom:
        def __reduce__(self):
            return (os.system, ('echo hacked',))

    with open(os.path.join(kp, 'gone.pkl'), 'wb') as f:
        pickle.dump({'v': Boom()}, f)
    with pytest.raises(KpfileError, match='refusing to unpickle'):
        PoseDataset(ann, kpfile_dir=kp).get_data_info(0)
    with open(os.path.join(kp, 'gone.pkl'), 'wb') as f:
        f.write(b'\x80\x04garbage')
    with pytest.raises(KpfileError, match='gone.pkl: cannot read the kpfile'):
        PoseDataset(ann, kpfile_dir=kp).get_data_info(0)


@pytest.mark.parametrize('item,field,problem', [
    (dict(frame_inds=np.array([0, 3, 2], np.int16)), 'frame_inds',
     'not sorted: box 2 is in frame 2, after frame 3 (kpfile /lost/kpfiles/part_0.pkl)'),
    (dict(box_score=np.array([0.9, np.nan, 0.1], np.float16)), 'box_score',
     '1 NaN/inf value(s), the first at box 1 (kpfile /lost/kpfiles/part_0.pkl)'),
    (dict(box_score=np.ones(2)), 'box_score', '2 boxes, but frame_inds has 3'),
    (dict(frame_inds=np.array([0, 3, 10])), 'frame_inds', 'frames [0, 10] lie outside [0, total_frames=10)'),
    (dict(frame_inds=[0, 1, 2]), 'frame_inds', 'expected a 1-D integer array, one entry per box, got list'),
    (dict(raw_file=None), 'raw_file', 'expected a path'),
])
def test_malformed_boxes_name_the_video_and_field(tmp_path, item, field, problem):
    bad = video('bad', [0, 1, 2], [0.9, 0.8, 0.1])
    bad[0].update(item)
    ann, kp = write_kinetics(tmp_path, [video('good', [0], [0.9]), bad])
    with pytest.raises(ValueError) as info:
        PoseDataset(ann, kpfile_dir=kp)
    assert str(info.value).startswith(f"{ann}: sample 'bad' field '{field}': {problem}")
    assert names(PoseDataset(ann, kpfile_dir=kp, on_bad_sample='skip')) == ['good']


def test_label_range_and_joint_count(tmp_path):
    ann, kp = write_kinetics(tmp_path, [video('a', [0], [0.9], label=400), video('b', [0], [0.9], V=25)])
    with pytest.raises(ValueError, match=r"sample 'a' field 'label': 400 is outside \[0, 400\)"):
        PoseDataset(ann, kpfile_dir=kp, num_classes=400)
    ds = PoseDataset(ann, kpfile_dir=kp, layout='coco', on_bad_sample='skip', num_classes=401)
    with pytest.raises(KpfileError, match="video 'b' field 'keypoint': 25 joints, but 17 are expected"):
        ds.get_data_info(1)
