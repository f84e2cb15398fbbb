import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.dataset import ConcatDataset, RepeatDataset, default_collate

from pyskl.datasets import Compose, PoseDataset, build_dataset
from pyskl.utils import UnsafePickleError, dump_pickle, load_pickle

NAMES = ['S001C001P001R001A001', 'S001C001P002R001A002', 'S001C002P001R001A003', 'S002C001P003R002A001',
         'S002C003P001R001A002']
GCN_PIPELINE = [
    dict(type='UniformSampleDecode', clip_len=8),
    dict(type='FormatGCNInput'),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]


def make_sample(name, label=0, T=12, M=2, V=25, C=3, dtype=np.float32, seed=0, **extra):
    rng = np.random.default_rng(seed)
    sample = dict(frame_dir=name, label=label, total_frames=T, keypoint=rng.standard_normal((M, T, V, C)).astype(dtype))
    sample.update(extra)
    return sample


def write_ann(tmp_path, samples, split=None, name='ntu60_3danno.pkl'):
    path = tmp_path / name
    data = dict(annotations=samples)
    if split is not None:
        data['split'] = split
    dump_pickle(data, path)
    return str(path)


@pytest.fixture
def ann(tmp_path):
    samples = [make_sample(n, label=i % 3, T=10 + i, seed=i) for i, n in enumerate(NAMES)]
    split = dict(xsub_train=[NAMES[3], NAMES[0], NAMES[4]], xsub_val=[NAMES[1], NAMES[2]])
    return write_ann(tmp_path, samples, split), samples


def frame_dirs(ds):
    return [ds.get_data_info(i)['frame_dir'] for i in range(len(ds))]


# ---------------------------------------------------------------- split, order, repeat
def test_split_keeps_annotation_order(ann):
    path, _ = ann
    train = PoseDataset(path, split='xsub_train')
    assert frame_dirs(train) == [NAMES[0], NAMES[3], NAMES[4]]  # file order, not the split list's
    assert frame_dirs(PoseDataset(path, split='xsub_val')) == [NAMES[1], NAMES[2]]
    assert frame_dirs(PoseDataset(path)) == NAMES


def test_unknown_split_names_file_and_available_splits(ann):
    path, _ = ann
    with pytest.raises(KeyError) as info:
        PoseDataset(path, split='xview_train')
    msg = str(info.value)
    assert path in msg and "'xview_train'" in msg and "['xsub_train', 'xsub_val']" in msg


def test_split_needs_split_dict(tmp_path):
    path = write_ann(tmp_path, [make_sample('a')])
    with pytest.raises(KeyError, match="has no 'split' dict"):
        PoseDataset(path, split='train')


def test_top_level_list_is_accepted_without_split(tmp_path):
    path = tmp_path / 'list.pkl'
    dump_pickle([make_sample('a'), make_sample('b', label=1)], path)
    assert frame_dirs(PoseDataset(str(path))) == ['a', 'b']


def test_repeat_length_and_index_mapping(ann):
    path, samples = ann
    ds = PoseDataset(path, split='xsub_train', repeat=4)
    base = [NAMES[0], NAMES[3], NAMES[4]]
    assert len(ds) == 12 and ds.num_samples == 3
    assert frame_dirs(ds) == base * 4
    assert ds.get_data_info(-1)['frame_dir'] == NAMES[4]
    assert ds.get_data_info(7)['sample_idx'] == 7
    assert ds.get_cat_ids(7) == [samples[3]['label']]
    with pytest.raises(IndexError):
        ds.get_data_info(12)
    with pytest.raises(ValueError, match='repeat must be a positive int'):
        PoseDataset(path, repeat=0)


def test_results_dict_fields(ann):
    path, samples = ann
    ds = PoseDataset(path, split='xsub_val', test_mode=True, start_index=1)
    info = ds.get_data_info(0)
    assert info['test_mode'] is True and info['start_index'] == 1 and info['modality'] == 'Pose'
    assert info['label'] == samples[1]['label'] and type(info['label']) is int
    assert info['total_frames'] == 11 and type(info['total_frames']) is int
    np.testing.assert_array_equal(info['keypoint'], samples[1]['keypoint'])
    assert PoseDataset(path).get_data_info(0)['test_mode'] is False


def test_returned_arrays_are_copies(ann):
    path, samples = ann
    ds = PoseDataset(path)
    info = ds.get_data_info(2)
    info['keypoint'][:] = 0  # a transform writing into its input
    np.testing.assert_array_equal(ds.get_data_info(2)['keypoint'], samples[2]['keypoint'])


def test_extra_fields_are_kept(tmp_path):
    samples = [make_sample('a', T=5, V=17, C=2, img_shape=(480, 640), original_shape=(480, 640),
                           keypoint_score=np.full((2, 5, 17), 0.5, np.float16))]
    ds = PoseDataset(write_ann(tmp_path, samples))
    info = ds.get_data_info(0)
    assert info['img_shape'] == (480, 640) and info['original_shape'] == (480, 640)
    assert info['keypoint_score'].dtype == np.float16 and info['keypoint_score'].shape == (2, 5, 17)


# ---------------------------------------------------------------- label map, classes
def test_label_map_gives_classes_and_label_range(tmp_path):
    label_map = tmp_path / 'label_map.txt'
    label_map.write_text('drink water\neat meal/snack\nbrushing teeth\n\n')
    path = write_ann(tmp_path, [make_sample('a', label=2), make_sample('b', label=0)])
    ds = PoseDataset(path, label_map=str(label_map))
    assert ds.metainfo['classes'] == ('drink water', 'eat meal/snack', 'brushing teeth')
    assert ds.num_classes == 3
    bad = write_ann(tmp_path, [make_sample('a', label=3)], name='bad.pkl')
    with pytest.raises(ValueError, match=r"sample 'a' field 'label': 3 is outside \[0, 3\)"):
        PoseDataset(bad, label_map=str(label_map))
    with pytest.raises(ValueError, match='num_classes=60, but the label map'):
        PoseDataset(path, label_map=str(label_map), num_classes=60)


def test_empty_line_inside_label_map(tmp_path):
    label_map = tmp_path / 'label_map.txt'
    label_map.write_text('a\n\nc\n')
    with pytest.raises(ValueError, match='line 2 of the label map is empty'):
        PoseDataset(write_ann(tmp_path, [make_sample('a')]), label_map=str(label_map))


# ---------------------------------------------------------------- validation
def _bad_cases():
    nan = make_sample('bad')
    nan['keypoint'][1, 4, 7, 2] = np.nan
    inf = make_sample('bad', dtype=np.float16)
    inf['keypoint'][0, 3, 0, 0] = np.inf
    no_total = make_sample('bad')
    del no_total['total_frames']
    nan_score = np.ones((2, 12, 25), np.float16)
    nan_score[0, 5, 3] = np.nan
    return [
        # (sample, dataset kwargs, field, expected problem)
        (make_sample('bad', V=3), dict(layout='nturgb+d'), 'keypoint',
         "3 joints, but the graph layout 'nturgb+d' has 25"),
        (make_sample('bad', V=17), dict(num_joints=25), 'keypoint', '17 joints, but num_joints is 25'),
        (make_sample('bad', V=17), {}, 'keypoint', '17 joints, but most samples of the file have 25'),
        (make_sample('bad', C=2), {}, 'keypoint', '2 coordinates per joint, but most samples of the file have 3'),
        (no_total, {}, 'total_frames', 'missing'),
        (dict(make_sample('bad'), keypoint=np.zeros((12, 25, 3))), {}, 'keypoint',
         'expected 4 dimensions M x T x V x C, got shape (12, 25, 3)'),
        (dict(make_sample('bad'), keypoint=[[0.0]]), {}, 'keypoint', 'expected a numpy array'),
        (dict(make_sample('bad'), keypoint=np.zeros((1, 2, 25, 3), dtype=object)), {}, 'keypoint',
         'expected a numeric array, got dtype object'),
        (make_sample('bad', T=0), {}, 'keypoint', 'no frames (shape (2, 0, 25, 3))'),
        (make_sample('bad', M=0), {}, 'keypoint', 'no persons (shape (0, 12, 25, 3))'),
        (dict(make_sample('bad'), total_frames=20), {}, 'total_frames', '20, but keypoint has 12 frames'),
        (nan, {}, 'keypoint', '1 NaN/inf value(s), the first at person 1, frame 4, joint 7, coordinate 2'),
        (inf, {}, 'keypoint', '1 NaN/inf value(s), the first at person 0, frame 3, joint 0, coordinate 0'),
        (dict(make_sample('bad'), label=2.0), {}, 'label', 'expected an int, got float 2.0'),
        (dict(make_sample('bad'), label=True), {}, 'label', 'expected an int, got bool'),
        (dict(make_sample('bad'), label=-1), {}, 'label', '-1 is negative'),
        (dict(make_sample('bad'), label=60), dict(num_classes=60), 'label', '60 is outside [0, 60)'),
        (dict(make_sample('bad'), total_frames=12.0), {}, 'total_frames', 'expected an int, got float'),
        (dict(make_sample('bad', C=2), keypoint_score=np.ones((2, 11, 25))), {}, 'keypoint_score',
         'shape (2, 11, 25) does not match keypoint (2, 12, 25)'),
        # 2D samples (the goods get C = 2 and a keypoint_score too)
        (dict(make_sample('bad', C=3), keypoint_score=np.ones((2, 12, 25))), {}, 'keypoint',
         '3 coordinates per joint, but a sample with keypoint_score holds 2D keypoints M x T x V x 2'),
        (dict(make_sample('bad', C=2), keypoint_score=nan_score), {}, 'keypoint_score',
         '1 NaN/inf value(s), the first at person 0, frame 5, joint 3'),
        (dict(make_sample('bad', C=2), keypoint_score=np.ones((2, 12)), img_shape=(1080, 1920)), {},
         'keypoint_score', 'expected 3 dimensions M x T x V, got shape (2, 12)'),
        (dict(make_sample('bad', C=2), keypoint_score=np.ones((2, 12, 25)), img_shape=(1080, )), {}, 'img_shape',
         'expected (height, width), two positive ints, got (1080,)'),
        (dict(make_sample('bad', C=2), keypoint_score=np.ones((2, 12, 25)), original_shape=(0, 640)), {},
         'original_shape', 'expected (height, width), two positive ints, got (0, 640)'),
    ]


@pytest.mark.parametrize('sample,kwargs,field,problem', _bad_cases())
def test_bad_sample_message_names_file_sample_field(tmp_path, sample, kwargs, field, problem):
    good = [make_sample(f'good{i}', seed=i) for i in range(3)]
    if 'keypoint_score' in sample:  # a 2D file
        good = [make_sample(f'good{i}', seed=i, C=2, keypoint_score=np.ones((2, 12, 25)), img_shape=(1080, 1920))
                for i in range(3)]
    path = write_ann(tmp_path, good[:2] + [sample] + good[2:])
    with pytest.raises(ValueError) as info:
        PoseDataset(path, **kwargs)
    assert str(info.value).startswith(f"{path}: sample 'bad' field '{field}': {problem}")
    assert 'ntu60_3danno.pkl' in str(info.value)
    # the same file loads in 'skip' mode, without the bad sample
    ds = PoseDataset(path, on_bad_sample='skip', **kwargs)
    assert frame_dirs(ds) == ['good0', 'good1', 'good2']
    assert len(ds.bad_samples) == 1 and ds.bad_samples[0].startswith(f"{path}: sample 'bad' field '{field}'")


def test_missing_frame_dir_and_non_dict_sample(tmp_path):
    nameless = make_sample('x')
    del nameless['frame_dir']
    path = write_ann(tmp_path, [make_sample('a'), nameless, 'oops'])
    with pytest.raises(ValueError, match=r"sample #1 \(it has no frame_dir\) field 'frame_dir': missing"):
        PoseDataset(path)
    ds = PoseDataset(path, on_bad_sample='skip')
    assert frame_dirs(ds) == ['a']
    assert "sample #2 (it has no frame_dir) field 'annotations': expected a dict per sample, got str" \
        in ds.bad_samples[1]


def test_missing_keypoint_score_in_2d_file(tmp_path):
    a = make_sample('a', V=17, C=2, keypoint_score=np.ones((2, 12, 17)))
    path = write_ann(tmp_path, [a, make_sample('bad', V=17, C=2)])
    with pytest.raises(ValueError, match="sample 'bad' field 'keypoint_score': missing"):
        PoseDataset(path)


def test_skip_mode_counts_and_logs(tmp_path, log_lines):
    bad_nan = make_sample('nan')
    bad_nan['keypoint'][0, 0, 0, 0] = np.nan
    samples = [make_sample('a'), make_sample('v3', V=3), bad_nan, make_sample('b', seed=1),
               dict(make_sample('lbl'), label=99), make_sample('t0', T=0)]
    path = write_ann(tmp_path, samples)
    with pytest.raises(ValueError, match=r"sample 'v3' .* \(and 3 more bad sample\(s\)"):
        PoseDataset(path, layout='nturgb+d', num_classes=60)
    ds = PoseDataset(path, layout='nturgb+d', num_classes=60, on_bad_sample='skip')
    assert frame_dirs(ds) == ['a', 'b']
    assert [m.split("sample '")[1].split("'")[0] for m in ds.bad_samples] == ['v3', 'nan', 'lbl', 't0']
    log = '\n'.join(log_lines)
    assert "skipping 4 bad sample(s) (3 for 'keypoint', 1 for 'label')" in log


def test_bad_samples_outside_the_split_are_not_checked(tmp_path):
    path = write_ann(tmp_path, [make_sample('a'), make_sample('b', V=3)], split=dict(train=['a'], val=['b']))
    assert frame_dirs(PoseDataset(path, split='train', layout='nturgb+d')) == ['a']
    with pytest.raises(ValueError, match="sample 'b'"):
        PoseDataset(path, split='val', layout='nturgb+d')


def test_layout_and_num_joints_must_agree(tmp_path):
    with pytest.raises(ValueError, match="num_joints=20 contradicts the graph layout 'nturgb\\+d'"):
        PoseDataset(write_ann(tmp_path, [make_sample('a')]), layout='nturgb+d', num_joints=20)


def test_custom_layout(tmp_path):
    layout = dict(num_node=4, inward=[(1, 0), (2, 1), (3, 1)], center=0)
    path = write_ann(tmp_path, [make_sample('a', V=4), make_sample('b', V=5)])
    with pytest.raises(ValueError, match="sample 'b' field 'keypoint': 5 joints, but the graph layout 'custom' has 4"):
        PoseDataset(path, layout=layout)


# ---------------------------------------------------------------- loading safety, storage
def test_refuses_code_in_annotation_file(tmp_path):
    marker = tmp_path / 'pwned'

    class Payload:
        def __reduce__(self):
            return os.system, (f'touch {marker}', )

    path = tmp_path / 'evil.pkl'
    with open(path, 'wb') as f:
        pickle.dump(dict(split=dict(train=['a']), annotations=[dict(make_sample('a'), label=Payload())]), f)
    with pytest.raises(UnsafePickleError, match='refusing to unpickle .*system'):
        PoseDataset(str(path), split='train')
    assert not marker.exists()


@pytest.mark.parametrize('dtype', [np.float16, np.float32])
def test_storage_keeps_dtype_and_values(tmp_path, dtype):
    samples = [make_sample(f's{i}', T=3 + i, M=1 + i % 2, dtype=dtype, seed=i) for i in range(4)]
    expected = [s['keypoint'].copy() for s in samples]
    ds = PoseDataset(write_ann(tmp_path, samples))
    assert ds._packed.keypoint.data.dtype == dtype
    for i, kp in enumerate(expected):
        got = ds.get_data_info(i)['keypoint']
        assert got.dtype == dtype and got.shape == kp.shape
        np.testing.assert_array_equal(got, kp)
    # one flat buffer holds every keypoint: no per-sample Python arrays are kept
    assert ds._packed.keypoint.data.size == sum(k.size for k in expected)
    assert ds.data_list == []


def test_one_frame_sample_goes_through_the_pipeline(tmp_path):
    path = write_ann(tmp_path, [make_sample('one', T=1, M=1, V=20, label=4)])
    ds = PoseDataset(path, pipeline=GCN_PIPELINE, layout='nw-ucla', test_mode=True)
    out = ds[0]
    assert out['keypoint'].shape == (1, 2, 8, 20, 3) and out['keypoint'].dtype == torch.float32
    assert out['label'] == 4


def test_global_random_state_untouched(ann):
    path, _ = ann
    state = np.random.get_state()
    ds = PoseDataset(path, pipeline=GCN_PIPELINE, repeat=2)
    for i in range(len(ds)):
        ds[i]
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


# ---------------------------------------------------------------- valid_ratio / box_thr
def test_valid_ratio_on_zero_frames(tmp_path, log_lines):
    half = make_sample('half', T=10)
    half['keypoint'][:, :6] = 0  # 4 of 10 frames valid
    most = make_sample('most', T=10)
    most['keypoint'][0, :2] = 0  # person 1 still valid there: 10 of 10
    path = write_ann(tmp_path, [half, most])
    assert frame_dirs(PoseDataset(path, valid_ratio=0.4)) == ['half', 'most']
    ds = PoseDataset(path, valid_ratio=0.5)
    assert frame_dirs(ds) == ['most'] and ds.num_dropped_by_valid_ratio == 1
    assert any('valid_ratio=0.5 dropped 1 sample(s)' in line for line in log_lines)


def test_valid_ratio_with_scores_and_precounted_valid(tmp_path):
    score = np.full((2, 10, 17), 0.9, np.float16)
    score[:, :5] = 0.3  # frames 0-4 below 0.5 for both persons
    a = make_sample('scored', T=10, V=17, C=2, keypoint_score=score,
                    box_score=np.array([[0.9] * 10, [0.4] * 10], np.float16))
    b = make_sample('counted', T=10, V=17, C=2, keypoint_score=np.ones((2, 10, 17)), valid={0.5: 2, 0.7: 1})
    path = write_ann(tmp_path, [a, b])
    ds = PoseDataset(path, valid_ratio=0.5, box_thr=0.5)
    assert frame_dirs(ds) == ['scored'] and ds.num_dropped_by_valid_ratio == 1  # 'counted': 2/10 < 0.5
    np.testing.assert_array_equal(ds.get_data_info(0)['anno_inds'], [[True] * 10, [False] * 10])
    assert frame_dirs(PoseDataset(path, valid_ratio=0.2, box_thr=0.5)) == ['scored', 'counted']
    # no valid[0.2]: scores decide, and they all reach 0.2
    assert frame_dirs(PoseDataset(path, valid_ratio=1.0, box_thr=0.2)) == ['scored', 'counted']
    assert frame_dirs(PoseDataset(path, valid_ratio=0.6, box_thr=0.7, on_bad_sample='skip')) == []
    with pytest.raises(ValueError, match='valid_ratio must be a number in'):
        PoseDataset(path, valid_ratio=2)


# ---------------------------------------------------------------- mmengine integration
def test_subsets_and_indices(ann):
    path, _ = ann
    ds = PoseDataset(path, indices=[4, 0])
    assert frame_dirs(ds) == [NAMES[4], NAMES[0]]
    full = PoseDataset(path, repeat=2)
    sub = full.get_subset([1, 6])
    assert frame_dirs(sub) == [NAMES[1], NAMES[1]] and len(full) == 10
    full.get_subset_(-2)
    assert frame_dirs(full) == [NAMES[3], NAMES[4]]


def test_lazy_init(ann):
    path, _ = ann
    ds = PoseDataset(path, lazy_init=True)
    assert not ds._fully_initialized
    assert len(ds) == 5 and ds._fully_initialized


def test_build_dataset_with_legacy_repeat_dataset(ann):
    path, _ = ann
    cfg = dict(type='RepeatDataset', times=3,
               dataset=dict(type='PoseDataset', ann_file=path, pipeline=GCN_PIPELINE, split='xsub_train'))
    ds = build_dataset(cfg)
    assert isinstance(ds, RepeatDataset) and isinstance(ds.dataset, PoseDataset)
    assert len(ds) == 9
    assert ds[4]['keypoint'].shape == (1, 2, 8, 25, 3)
    concat = build_dataset(dict(type='ConcatDataset', datasets=[
        dict(type='PoseDataset', ann_file=path, split='xsub_train'),
        dict(type='PoseDataset', ann_file=path, split='xsub_val')]))
    assert isinstance(concat, ConcatDataset) and len(concat) == 5
    with pytest.raises(KeyError, match="Did you mean 'PoseDataset'"):
        build_dataset(dict(type='PoseDatset', ann_file=path))


def test_compose_is_reexported():
    from pyskl.datasets.transforms.compose import Compose as TransformsCompose
    assert Compose is TransformsCompose
    assert isinstance(PoseDataset.__new__(PoseDataset), PoseDataset)


def test_dataloader_with_workers_and_default_collate(ann):
    path, samples = ann
    ds = RepeatDataset(PoseDataset(path, pipeline=GCN_PIPELINE, split='xsub_train'), times=2)
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2, collate_fn=default_collate)
    batches = list(loader)
    assert [b['keypoint'].shape for b in batches] == [(4, 1, 2, 8, 25, 3), (2, 1, 2, 8, 25, 3)]
    labels = torch.cat([b['label'] for b in batches])
    assert labels.dtype == torch.int64
    assert labels.tolist() == [samples[i]['label'] for i in (0, 3, 4)] * 2


def test_written_pickle_loads_with_safe_loader(ann):
    path, samples = ann
    data = load_pickle(path)
    assert data['split']['xsub_val'] == [NAMES[1], NAMES[2]]
    assert len(data['annotations']) == len(samples)


def test_load_data_list_and_pickling(ann):
    path, samples = ann
    ds = PoseDataset(path, split='xsub_val', pipeline=GCN_PIPELINE, test_mode=True)
    listed = ds.load_data_list()
    assert [d['frame_dir'] for d in listed] == [NAMES[1], NAMES[2]]
    np.testing.assert_array_equal(listed[1]['keypoint'], samples[2]['keypoint'])
    # a dataset must survive pickling (DataLoader workers started with 'spawn'/'forkserver')
    clone = pickle.loads(pickle.dumps(ds))
    assert len(clone) == 2
    torch.testing.assert_close(clone[1]['keypoint'], ds[1]['keypoint'])


def test_ragged_arrays_locate_flat_positions():
    from pyskl.datasets.packed_annotations import RaggedArrays
    arrays = [np.arange(6.).reshape(1, 2, 3), np.zeros((0, 2, 3)), np.ones((2, 1, 3))]
    ragged = RaggedArrays.pack(arrays, np.dtype(np.float32), 3)
    assert ragged.offsets.tolist() == [0, 6, 6, 12]
    assert ragged.sample_of(np.array([0, 5, 6, 11])).tolist() == [0, 0, 2, 2]
    assert ragged.get(1).shape == (0, 2, 3)
    np.testing.assert_array_equal(ragged.get(2), np.ones((2, 1, 3)))


# ---------------------------------------------------------------- memory-mapped cache
def _same_data(a, b):
    assert len(a) == len(b)
    for i in range(len(a)):
        x, y = a.get_data_info(i), b.get_data_info(i)
        assert x.keys() == y.keys() and x['frame_dir'] == y['frame_dir'] and x['label'] == y['label']
        np.testing.assert_array_equal(x['keypoint'], y['keypoint'])
        assert type(y['keypoint']) is np.ndarray and y['keypoint'].dtype == x['keypoint'].dtype


def test_cache_matches_in_memory_and_is_memory_mapped(tmp_path, monkeypatch):
    samples = [make_sample(n, label=i, T=4 + i, dtype=np.float16, seed=i, img_shape=(1, 2)) for i, n in enumerate(NAMES)]
    path = write_ann(tmp_path, samples, split=dict(train=[NAMES[4], NAMES[1]], val=[NAMES[0]]))
    for split in ('train', 'val', None):
        cached = PoseDataset(path, split=split, cache=True)
        _same_data(PoseDataset(path, split=split), cached)
        assert isinstance(cached._packed.keypoint.data, np.memmap)
    assert frame_dirs(PoseDataset(path, split='train', cache=True)) == [NAMES[1], NAMES[4]]
    folder = tmp_path / 'ntu60_3danno.pkl.cache'
    assert (folder / 'meta.json').exists() and (folder / 'keypoint.data.npy').exists()

    # later datasets read the cache only
    def no_pickle(path):
        raise AssertionError('the pickle was read again')

    monkeypatch.setattr('pyskl.utils.safe_pickle.load_pickle', no_pickle)
    assert len(PoseDataset(path, split='val', cache=True)) == 1
    with pytest.raises(KeyError, match="no split 'test'; the file has splits \\['train', 'val'\\]"):
        PoseDataset(path, split='test', cache=True)


def test_cache_is_rebuilt_when_the_pickle_changes(tmp_path):
    path = write_ann(tmp_path, [make_sample('a'), make_sample('b')])
    assert frame_dirs(PoseDataset(path, cache=str(tmp_path / 'c'))) == ['a', 'b']
    os.utime(path, ns=(1, 1))  # a different file as far as the stamp goes
    write_ann(tmp_path, [make_sample('x'), make_sample('y'), make_sample('z')])
    assert frame_dirs(PoseDataset(path, cache=str(tmp_path / 'c'))) == ['x', 'y', 'z']
    assert sorted(os.listdir(tmp_path)) == ['c', 'ntu60_3danno.pkl']  # no temporary folder left


def test_cache_reports_bad_samples_of_the_split(tmp_path, log_lines):
    no_label = make_sample('nolabel')
    del no_label['label']
    samples = [make_sample('a'), no_label, make_sample('v3', V=3), make_sample('b')]
    path = write_ann(tmp_path, samples, split=dict(train=['a', 'b'], val=['nolabel', 'v3', 'b']))
    assert frame_dirs(PoseDataset(path, split='train', cache=True, layout='nturgb+d')) == ['a', 'b']
    with pytest.raises(ValueError, match=f"^{path}: sample 'nolabel' field 'label': missing$"):
        PoseDataset(path, split='val', cache=True, layout='nturgb+d')
    ds = PoseDataset(path, split='val', cache=True, layout='nturgb+d', on_bad_sample='skip')
    assert frame_dirs(ds) == ['b'] and len(ds.bad_samples) == 2
    assert not any('have no annotation' in line for line in log_lines)


def test_cache_falls_back_to_memory_where_it_cannot_write(tmp_path, log_lines):
    path = write_ann(tmp_path, [make_sample('a')])
    ds = PoseDataset(path, cache=str(tmp_path / 'missing' / 'parent' / 'cache'))
    assert frame_dirs(ds) == ['a'] and not isinstance(ds._packed.keypoint.data, np.memmap)
    assert any('cannot write the annotation cache' in line for line in log_lines)


def test_cache_contents_are_not_trusted(tmp_path):
    marker = tmp_path / 'pwned'

    class Payload:
        def __reduce__(self):
            return os.system, (f'touch {marker}', )

    path = write_ann(tmp_path, [make_sample('a', img_shape=(1, 2))])
    PoseDataset(path, cache=True)
    blob = pickle.dumps(dict(img_shape=Payload()))
    folder = tmp_path / 'ntu60_3danno.pkl.cache'
    np.save(folder / 'extras.data.npy', np.frombuffer(blob, np.uint8))
    np.save(folder / 'extras.offsets.npy', np.array([0, len(blob)], np.int64))
    ds = PoseDataset(path, cache=True)
    with pytest.raises(UnsafePickleError, match='extras.data.npy: refusing to unpickle'):
        ds.get_data_info(0)
    assert not marker.exists()


def test_cache_with_dataloader_workers(ann):
    path, samples = ann
    ds = PoseDataset(path, pipeline=GCN_PIPELINE, cache=True)
    loader = torch.utils.data.DataLoader(ds, batch_size=5, num_workers=2, collate_fn=default_collate)
    (batch, ) = list(loader)
    assert batch['keypoint'].shape == (5, 1, 2, 8, 25, 3)
    assert batch['label'].tolist() == [s['label'] for s in samples]


def test_a_frame_dir_of_another_type_is_named(tmp_path):
    # found by tools/benchmarks/fuzz_inputs.py: was "TypeError: unhashable type: 'numpy.ndarray'"
    bad = make_sample('b')
    bad['frame_dir'] = np.array('b')
    path = write_ann(tmp_path, [make_sample('a'), bad], split=dict(train=['a', 'b']))
    with pytest.raises(ValueError, match=r"sample #1 .*field 'frame_dir': expected a str, got ndarray"):
        PoseDataset(path, split='train')


def test_a_label_map_that_is_not_utf8_is_one_line(tmp_path):
    # found by tools/benchmarks/fuzz_inputs.py: was a bare UnicodeDecodeError naming no file
    label_map = tmp_path / 'labels.txt'
    label_map.write_bytes(b'walk\n\xff\xferun\n')
    with pytest.raises(ValueError, match=rf'^{label_map}, line 2: not UTF-8 text \(byte 0xff\)'):
        PoseDataset(write_ann(tmp_path, [make_sample('a')]), label_map=label_map)
