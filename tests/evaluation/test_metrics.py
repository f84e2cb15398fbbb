import os
import socket

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from pyskl.evaluation.metrics import TOP1_KEY, AccMetric, ConfusionMatrix, DumpScores, MeanClassAccuracy, TopKAccuracy
from pyskl.evaluation.plots import read_confusion_matrix_csv
from pyskl.registry import METRICS
from pyskl.utils.safe_pickle import load_pickle

SCORES = np.array([[.1, .9, 0.], [.8, .1, .1], [.2, .3, .5], [.6, .3, .1]], dtype=np.float32)
LABELS = [1, 0, 1, 2]


def predict_outputs(scores=SCORES, labels=LABELS):
    # what RecognizerGCN's predict mode returns, one dict per sample
    return [dict(pred_score=torch.from_numpy(s), gt_label=torch.tensor(lab) if lab is not None else None)
            for s, lab in zip(scores, labels)]


def run_metric(metric, outputs, batch=3, size=None):
    for i in range(0, len(outputs), batch):
        metric.process(None, outputs[i:i + batch])
    return metric.evaluate(size if size is not None else len(outputs))


def test_acc_metric_keys_and_values():
    metric = METRICS.build(dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy']))
    result = run_metric(metric, predict_outputs())
    assert result == {'top1_acc': pytest.approx(.5), 'top5_acc': pytest.approx(1.), 'mean_class_accuracy':
                      pytest.approx(.5)}
    assert TOP1_KEY == 'top1_acc'
    metric = AccMetric(metric_list='top_k_accuracy', metric_options=dict(top_k_accuracy=dict(topk=(1, 2))))
    assert run_metric(metric, predict_outputs()) == {'top1_acc': .5, 'top2_acc': .75}


def test_standalone_metrics_and_their_aliases():
    assert METRICS.get('top_k_accuracy') is TopKAccuracy
    assert METRICS.get('mean_class_accuracy') is MeanClassAccuracy
    assert run_metric(TopKAccuracy(topk=(1, 2)), predict_outputs()) == {'top1_acc': .5, 'top2_acc': .75}
    assert run_metric(MeanClassAccuracy(), predict_outputs()) == {'mean_class_accuracy': .5}


def test_evaluate_drops_padding_beyond_the_dataset_size():
    # a padded last batch repeats sample 0; evaluate(size=3) must ignore the 4th result
    outputs = predict_outputs()[:3] + predict_outputs()[:1]
    assert run_metric(TopKAccuracy(topk=1), outputs, size=3) == {'top1_acc': pytest.approx(2 / 3)}


def test_bad_metric_configs_and_missing_labels():
    with pytest.raises(KeyError, match='top_k_accuracy'):
        AccMetric(metric_list=['top1'])
    with pytest.raises(KeyError, match='topk'):
        AccMetric(metric_options=dict(top_k_accuracy=dict(k=1)))
    with pytest.raises(TypeError, match='topk'):
        TopKAccuracy(topk=(0, ))
    metric = TopKAccuracy()
    with pytest.raises(ValueError, match='no ground-truth label'):
        run_metric(metric, predict_outputs(labels=[1, None, 0, 0]))
    with pytest.raises(KeyError, match='pred_score'):
        TopKAccuracy().process(None, [dict(gt_label=torch.tensor(0))])
    with pytest.raises(ValueError, match='.pkl'):
        DumpScores('scores.txt')


def test_confusion_matrix_metric_writes_png_and_csv_with_class_names(tmp_path):
    metric = ConfusionMatrix(out_dir=str(tmp_path))
    metric.dataset_meta = dict(classes=('walk', 'run', 'jump'))
    assert run_metric(metric, predict_outputs()) == {}
    png, csv = tmp_path / 'confusion_matrix.png', tmp_path / 'confusion_matrix.csv'
    assert png.stat().st_size > 1000 and png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    matrix, names = read_confusion_matrix_csv(csv)
    assert names == ['walk', 'run', 'jump']
    # rows true, columns predicted: predictions 1, 0, 2, 0 for labels 1, 0, 1, 2
    np.testing.assert_array_equal(matrix, [[1, 0, 0], [0, 1, 1], [1, 0, 0]])


def test_confusion_matrix_class_names_from_a_label_map(tmp_path):
    label_map = tmp_path / 'labels.txt'
    label_map.write_text('a\nb\nc\n')
    metric = ConfusionMatrix(out_dir=str(tmp_path / 'out'), class_names=str(label_map), file_prefix='cm')
    run_metric(metric, predict_outputs())
    assert read_confusion_matrix_csv(tmp_path / 'out' / 'cm.csv')[1] == ['a', 'b', 'c']
    # no out_dir: computed but nothing written
    metric = ConfusionMatrix()
    run_metric(metric, predict_outputs())
    assert metric.matrix.sum() == 4


def test_dump_scores_writes_one_array_per_sample_in_order(tmp_path):
    out = tmp_path / 'sub' / 'result.pkl'
    metric = DumpScores(str(out))
    outputs = predict_outputs(labels=[None] * 4)  # labels are not needed to dump
    assert run_metric(metric, outputs, batch=3) == {}
    results = load_pickle(out)
    assert isinstance(results, list) and len(results) == 4
    for got, want in zip(results, SCORES):
        assert got.dtype == np.float32 and got.shape == (3, )
        np.testing.assert_array_equal(got, want)


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _dump_on_rank(rank, world_size, port, out):
    import torch.distributed as dist
    from mmengine.dataset import DefaultSampler
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=world_size)
    try:
        size = 5  # 2 ranks x 3 -> one padded sample
        sampler = DefaultSampler(list(range(size)), shuffle=False)
        indices = list(sampler)
        metric = DumpScores(out)
        acc = TopKAccuracy(topk=1)
        for i in range(0, len(indices), 2):  # batches of 2
            batch = [dict(pred_score=torch.tensor([float(j), 0., 0.]), gt_label=torch.tensor(0 if j == 0 else 1))
                     for j in indices[i:i + 2]]
            metric.process(None, batch)
            acc.process(None, batch)
        metric.evaluate(size)
        result = acc.evaluate(size)
        # only sample 0 (score [0, 0, 0], a tie broken towards its class 0) is right; the padding
        # (a second copy of sample 0) must not count
        if result['top1_acc'] != pytest.approx(1 / 5):
            raise AssertionError(result)
    finally:
        dist.destroy_process_group()


def test_results_are_gathered_in_dataset_order_across_ranks(tmp_path):
    out = str(tmp_path / 'result.pkl')
    mp.start_processes(_dump_on_rank, args=(2, _free_port(), out), nprocs=2, start_method='spawn')
    results = load_pickle(out)
    assert [float(r[0]) for r in results] == [0., 1., 2., 3., 4.]


@pytest.mark.parametrize('text, line', [('walk\n\nrun\njump\n', 2), ('walk\nrun\nwalk\n', 3)])
def test_confusion_matrix_label_map_with_a_blank_or_repeated_line_is_refused(tmp_path, text, line):
    # a blank line used to be dropped, shifting every later class name by one
    label_map = tmp_path / 'labels.txt'
    label_map.write_text(text)
    metric = ConfusionMatrix(out_dir=str(tmp_path / 'out'), class_names=str(label_map))
    with pytest.raises(ValueError, match=rf'labels.txt: line {line} '):
        run_metric(metric, predict_outputs())
