"""NW-UCLA converter: tiny JSON files written here, and the real ``all_sqe`` folder where present."""
import json
import runpy
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from shared_data import shared_path
from pyskl.datasets.converters.nwucla import NWUCLA_CLASSES, convert_nwucla, read_nwucla_json
from pyskl.utils import load_pickle

REPO = Path(__file__).resolve().parents[2]


def write_sample(folder, name, num_frames, label, **override):
    skeletons = (np.arange(num_frames * 20 * 3, dtype=np.float64).reshape(num_frames, 20, 3) / 8).tolist()
    content = dict(file_name=name, skeletons=skeletons, label=label)
    content.update(override)
    path = folder / f'{name}.json'
    path.write_text(json.dumps(content))
    return path, np.asarray(skeletons, np.float32)


def test_read_one_file(tmp_path):
    path, skeletons = write_sample(tmp_path, 'a12_s03_e01_v02', 4, 10)
    anno = read_nwucla_json(path)
    assert anno['frame_dir'] == 'a12_s03_e01_v02' and anno['label'] == 9 and anno['total_frames'] == 4
    assert anno['keypoint'].dtype == np.float32 and anno['keypoint'].shape == (1, 4, 20, 3)
    np.testing.assert_array_equal(anno['keypoint'][0], skeletons)


def test_one_frame_sequence_is_kept(tmp_path):
    anno = read_nwucla_json(write_sample(tmp_path, 'a01_s01_e00_v01', 1, 1)[0])
    assert anno['keypoint'].shape == (1, 1, 20, 3) and anno['total_frames'] == 1


@pytest.mark.parametrize('name, kwargs, message', [
    ('a01_s01_e00_v01', dict(label=0), 'field "label" must be an integer from 1 to 10'),
    ('a01_s01_e00_v01', dict(label=2), 'name says action a01'),
    ('a01_s01_e00_v01', dict(label=True), 'field "label"'),
    ('a01_s01_e00_v01', dict(skeletons=[[[0, 0, 0]] * 19]), 'shape T x 20 x 3'),
    ('a01_s01_e00_v01', dict(skeletons=[]), 'shape T x 20 x 3'),
    ('a01_s01_e00_v01', dict(skeletons=[[[0, 0, 0]] * 20, [[0, 0]] * 20]), '"skeletons"'),
    ('a01_s01_e00_v01', dict(skeletons=[[[0, 0, 'x']] * 20]), '"skeletons"'),
    ('a01_s01_e00_v01', dict(skeletons=[[[0, 0, 0]] * 20, [[0, float('nan'), 0]] * 20]), 'NaN/inf value in frame 1'),
    ('a01_s01_e00_v01', dict(file_name='a01_s01_e00_v02'), 'field "file_name"'),
    ('walk', dict(), 'not aAA_sSS_eEE_vVV'),
])
def test_bad_file_names_file_and_field(tmp_path, name, kwargs, message):
    label = kwargs.pop('label', 1)
    path, _ = write_sample(tmp_path, name, 2, label, **kwargs)
    with pytest.raises(ValueError, match=message) as info:
        read_nwucla_json(path)
    assert str(info.value).startswith(f'{name}.json: ')


def test_missing_field(tmp_path):
    path = tmp_path / 'a01_s01_e00_v01.json'
    path.write_text(json.dumps(dict(file_name='a01_s01_e00_v01', label=1)))
    with pytest.raises(ValueError, match='a01_s01_e00_v01.json: field .skeletons. is missing'):
        read_nwucla_json(path)


def make_folder(tmp_path):
    folder = tmp_path / 'all_sqe'
    folder.mkdir()
    for name, label in [('a02_s01_e00_v03', 2), ('a01_s01_e00_v01', 1), ('a01_s02_e00_v02', 1),
                        ('a12_s01_e00_v03', 10)]:
        write_sample(folder, name, 3, label)
    (folder / 'a03_s01_e00_v01.json').write_text('{"file_name": "a03_s01_e00_v01",\n "skeletons": [[')
    return folder


def test_convert_folder(tmp_path):
    folder = make_folder(tmp_path)
    report = convert_nwucla(folder, tmp_path / 'out' / 'nwucla.pkl', progress=False)
    assert [(s.name, s.kind) for s in report.skipped] == [('a03_s01_e00_v01.json', 'malformed')]
    assert 'not valid JSON (line 2' in report.skipped[0].reason
    data = load_pickle(tmp_path / 'out' / 'nwucla.pkl')
    assert data['split'] == dict(xview_train=['a01_s01_e00_v01', 'a01_s02_e00_v02'],
                                 xview_val=['a02_s01_e00_v03', 'a12_s01_e00_v03'])
    assert [(a['frame_dir'], a['label']) for a in data['annotations']] == [
        ('a01_s01_e00_v01', 0), ('a01_s02_e00_v02', 0), ('a02_s01_e00_v03', 1), ('a12_s01_e00_v03', 9)]
    names = (tmp_path / 'out' / 'nwucla_label_map.txt').read_text(encoding='utf-8').splitlines()
    assert names == list(NWUCLA_CLASSES) and names[0] == 'pick up with one hand' and names[9] == 'carry'


def test_cli(tmp_path, capsys):
    main = runpy.run_path(str(REPO / 'tools' / 'data' / 'nwucla_preproc.py'))['main']
    with pytest.raises(SystemExit) as info:
        main(['--help'])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert 'xview_train' in out and 'all_sqe_dir' in out
    folder = make_folder(tmp_path)
    main([str(folder), str(tmp_path / 'x.pkl'), '--no-progress'])
    out = capsys.readouterr().out
    assert 'x.pkl: 4 samples, 3 classes (xview_train 2, xview_val 2)' in out
    assert 'skipped a03_s01_e00_v01.json (malformed): not valid JSON' in out
    assert len(load_pickle(tmp_path / 'x.pkl')['annotations']) == 4
    with pytest.raises(SystemExit, match='is not a folder'):
        main([str(tmp_path / 'absent'), str(tmp_path / 'y.pkl')])


def test_real_all_sqe(tmp_path):
    all_sqe = shared_path('datasets', 'nw-ucla', 'all_sqe')
    report = convert_nwucla(all_sqe, tmp_path / 'nwucla.pkl', progress=False)
    assert report.skipped == []
    data = load_pickle(tmp_path / 'nwucla.pkl')
    split, annos = data['split'], data['annotations']
    assert len(split['xview_train']) == 1020 and len(split['xview_val']) == 464
    assert len(annos) == 1484
    for part in ('xview_train', 'xview_val'):
        assert split[part] == sorted(split[part])
    by_name = {a['frame_dir']: a for a in annos}
    assert {int(n[-2:]) for n in split['xview_train']} == {1, 2}
    assert {int(n[-2:]) for n in split['xview_val']} == {3}
    for part in ('xview_train', 'xview_val'):
        assert sorted(Counter(by_name[n]['label'] for n in split[part])) == list(range(10))
    assert all(a['keypoint'].shape[0] == 1 and a['keypoint'].shape[2:] == (20, 3) for a in annos)
    assert all(a['keypoint'].shape[1] == a['total_frames'] >= 1 for a in annos)
    assert min(a['total_frames'] for a in annos) == 1  # one-frame sequences are kept
    first = by_name['a01_s01_e00_v01']
    assert first['label'] == 0
    np.testing.assert_allclose(first['keypoint'][0, 0, 0], [-0.619699, 0.328046, 3.18186], rtol=1e-6)
