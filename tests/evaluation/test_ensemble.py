"""tools/ensemble.py: weighted-sum fusion of result files, checked on hand-computed cases."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from pyskl.evaluation.ensemble import (ensemble, fuse_scores, labels_from_annotation, load_labels,
                                       load_result_scores)
from pyskl.utils.safe_pickle import dump_pickle, load_pickle

REPO = Path(__file__).resolve().parents[2]

# 4 samples, 3 classes, labels 0 1 2 0
J = [np.array(r, np.float32) for r in ([.6, .3, .1], [.5, .4, .1], [.2, .5, .3], [.1, .6, .3])]
B = [np.array(r, np.float32) for r in ([.2, .7, .1], [.1, .8, .1], [.1, .2, .7], [.7, .2, .1])]
LABELS = [0, 1, 2, 0]


def load_tool():
    spec = importlib.util.spec_from_file_location('ensemble_tool', REPO / 'tools' / 'ensemble.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


@pytest.fixture
def files(tmp_path):
    dump_pickle(J, tmp_path / 'j.pkl')
    dump_pickle(B, tmp_path / 'b.pkl')
    ann = dict(split=dict(val=['s3', 's1', 'x0', 's4'], train=['s2']),
               annotations=[dict(frame_dir=name, label=lab, total_frames=1, keypoint=np.zeros((1, 1, 25, 3)))
                            for name, lab in (('x0', 0), ('s1', 1), ('s2', 1), ('s3', 2), ('s4', 0))])
    dump_pickle(ann, tmp_path / 'ann.pkl')
    return tmp_path


def test_hand_computed_fusion(files):
    labels = np.array(LABELS)
    # j alone: predictions 0 0 1 1 -> top-1 1/4; b alone: 1 1 2 0 -> 3/4
    # 2:1 -> [1.4 1.3 .3] [1.1 1.6 .3] [.5 1.2 1.3] [.9 1.4 .7] -> 0 1 2 1 -> 3/4
    fused, per_file, scores = ensemble([files / 'j.pkl', files / 'b.pkl'], labels, [2, 1])
    assert per_file[0]['top1_acc'] == pytest.approx(.25) and per_file[1]['top1_acc'] == pytest.approx(.75)
    np.testing.assert_allclose(scores[1], [1.1, 1.6, .3], rtol=1e-6)
    assert fused['top1_acc'] == pytest.approx(.75)
    # mean class accuracy: class 0 1/2, class 1 1/1, class 2 1/1
    assert fused['mean_class_accuracy'] == pytest.approx((.5 + 1 + 1) / 3)
    assert fused['top5_acc'] == 1.0
    # 1:2 favours b: [1. 1.7 .3] [.7 2. .3] [.4 .9 1.7] [1.5 1. .5] -> 1 1 2 0 -> 3/4, class 0 1/2
    fused, _, _ = ensemble([files / 'j.pkl', files / 'b.pkl'], labels, [1, 2])
    assert fused['top1_acc'] == pytest.approx(.75)


def test_labels_follow_the_annotation_order_filtered_by_split(files):
    # the split lists s3 s1 x0 s4, but PoseDataset keeps the annotation order: x0 s1 s3 s4
    np.testing.assert_array_equal(labels_from_annotation(files / 'ann.pkl', 'val'), LABELS)
    np.testing.assert_array_equal(labels_from_annotation(files / 'ann.pkl', None), [0, 1, 1, 2, 0])
    with pytest.raises(KeyError, match="no split 'test'.*'train', 'val'"):
        labels_from_annotation(files / 'ann.pkl', 'test')


def test_cli_with_annotation_or_label_file(files, capsys):
    tool = load_tool()
    fused = tool.main([str(files / 'j.pkl'), str(files / 'b.pkl'), '--weights', '2', '1', '--ann-file',
                       str(files / 'ann.pkl'), '--split', 'val', '--out', str(files / 'fused.pkl')])
    out = capsys.readouterr().out
    assert fused['top1_acc'] == pytest.approx(.75)
    assert 'fused' in out and '0.7500' in out and str(files / 'j.pkl') in out
    np.testing.assert_allclose(load_pickle(files / 'fused.pkl')[0], [1.4, 1.3, .3], rtol=1e-6)
    np.save(files / 'labels.npy', np.array(LABELS))
    (files / 'labels.txt').write_text('0\n1\n2\n0\n')
    for labels in ('labels.npy', 'labels.txt'):
        assert tool.main([str(files / 'j.pkl'), str(files / 'b.pkl'), '--weights', '2', '1', '--labels',
                          str(files / labels)]) == \
            pytest.approx(dict(top1_acc=.75, top5_acc=1., mean_class_accuracy=(.5 + 1 + 1) / 3))


def test_mismatched_inputs_are_refused_naming_the_files(files):
    tool = load_tool()
    dump_pickle(J[:3], files / 'short.pkl')
    dump_pickle([np.zeros(5, np.float32)] * 4, files / 'five.pkl')
    np.save(files / 'labels3.npy', np.array([0, 1, 2]))
    cases = [
        ([str(files / 'j.pkl'), str(files / 'short.pkl')], 'short.pkl holds 3 samples'),
        ([str(files / 'j.pkl'), str(files / 'five.pkl')], 'five.pkl has 5 classes but .*j.pkl has 3'),
        ([str(files / 'j.pkl'), '--weights', '1', '2'], '2 weights given for 1 result files'),
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit, match=message):
            tool.main(argv + ['--ann-file', str(files / 'ann.pkl'), '--split', 'val'])
    with pytest.raises(SystemExit, match=r'j.pkl holds 4 samples but .*labels3.npy give 3 labels'):
        tool.main([str(files / 'j.pkl'), '--labels', str(files / 'labels3.npy')])
    with pytest.raises(SystemExit, match="no split 'xsub_val'"):
        tool.main([str(files / 'j.pkl'), '--ann-file', str(files / 'ann.pkl'), '--split', 'xsub_val'])


def test_result_file_forms(tmp_path):
    dump_pickle(np.stack(J), tmp_path / 'array.pkl')  # one 2-D array is accepted too
    np.testing.assert_allclose(load_result_scores(tmp_path / 'array.pkl'), np.stack(J))
    dump_pickle([np.zeros(3), np.zeros(4)], tmp_path / 'ragged.pkl')
    with pytest.raises(ValueError, match=r'ragged.pkl: samples have different numbers of class scores \[3, 4\]'):
        load_result_scores(tmp_path / 'ragged.pkl')
    dump_pickle([np.zeros((2, 3))], tmp_path / 'clips.pkl')
    with pytest.raises(ValueError, match='clips.pkl: sample 0 has scores of shape'):
        load_result_scores(tmp_path / 'clips.pkl')
    dump_pickle({'a': 1}, tmp_path / 'dict.pkl')
    with pytest.raises(ValueError, match='dict.pkl: expected a list'):
        load_result_scores(tmp_path / 'dict.pkl')
    (tmp_path / 'bad.txt').write_text('0\nwalk\n')
    with pytest.raises(ValueError, match='one integer label per line'):
        load_labels(tmp_path / 'bad.txt')
    with pytest.raises(ValueError, match='2 weights given for 1'):
        fuse_scores([np.stack(J)], [1, 2])
