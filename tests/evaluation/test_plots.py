import numpy as np
import pytest

from pyskl.evaluation.plots import (plot_confusion_matrix, plot_timeline, plot_training_curves,
                                    read_confusion_matrix_csv, write_confusion_matrix_csv)

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def test_confusion_matrix_png_and_csv(tmp_path):
    matrix = np.array([[3, 1], [0, 2]])
    png = plot_confusion_matrix(matrix, tmp_path / 'cm.png', ['wave', 'squat'])
    assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 1000
    csv = write_confusion_matrix_csv(matrix, tmp_path / 'cm.csv', ['wave', 'squat'])
    assert csv.read_text().splitlines() == ['true \\ predicted,wave,squat', 'wave,3,1', 'squat,0,2']
    got, names = read_confusion_matrix_csv(csv)
    np.testing.assert_array_equal(got, matrix)
    assert names == ['wave', 'squat']
    # without names the indices label the rows
    write_confusion_matrix_csv(matrix, tmp_path / 'cm2.csv')
    assert read_confusion_matrix_csv(tmp_path / 'cm2.csv')[1] == ['0', '1']
    with pytest.raises(ValueError, match='3 class names given for 2 classes'):
        plot_confusion_matrix(matrix, tmp_path / 'x.png', ['a', 'b', 'c'])


def test_many_classes_still_draws(tmp_path):
    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 5, (60, 60))
    png = plot_confusion_matrix(matrix, tmp_path / 'cm60.png')
    assert png.stat().st_size > 1000


def test_training_curves_png(tmp_path):
    steps = np.arange(1, 31) / 10  # 3 epochs of 10 iterations
    png = plot_training_curves(tmp_path / 'curves.png', steps, np.linspace(2, 0.5, 30), np.linspace(.1, 0, 30),
                               [1, 2, 3], [0.3, 0.5, 0.6])
    assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 5000
    # nothing logged yet still gives a figure, not an exception
    empty = plot_training_curves(tmp_path / 'empty.png', [], [], [])
    assert empty.stat().st_size > 1000


def test_timeline_png(tmp_path):
    scores = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    out = plot_timeline(tmp_path / 'timeline.png', [0, 24, 48], [48, 72, 96], scores, ['a', 'b', 'c'], num_shown=2)
    assert out.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ValueError, match='2 class names given for 3 classes'):
        plot_timeline(tmp_path / 'x.png', [0], [1], scores[:1], ['a', 'b'])
