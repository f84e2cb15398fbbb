"""Windows over a long recording and the per-window CSV (pyskl.apis.recordings)."""
import csv
import io

import numpy as np
import pytest

from pyskl.apis.recordings import predictions_csv, window_bounds


@pytest.mark.parametrize('frames, window, stride, expected', [
    (100, None, None, [(0, 100)]),                        # no window: the whole recording
    (30, 48, 24, [(0, 30)]),                              # shorter than one window
    (100, 48, 24, [(0, 48), (24, 72), (48, 96), (52, 100)]),  # the last window ends at the last frame
    (96, 48, None, [(0, 48), (48, 96)]),                  # stride defaults to the window
])
def test_window_bounds(frames, window, stride, expected):
    assert window_bounds(frames, window, stride) == expected


def test_window_bounds_refuses_non_positive():
    with pytest.raises(ValueError, match='must be positive'):
        window_bounds(100, 0, 1)


def test_predictions_csv():
    rows = [dict(start=0, end=48, pred_label=2, pred_score=0.5, scores=np.array([0.2, 0.3, 0.5]),
                 top_k=[(2, 'jump', 0.5), (1, None, 0.3)])]
    out = list(csv.reader(io.StringIO(predictions_csv(rows))))
    assert out[0] == ['start', 'end', 'pred_label', 'class_name', 'pred_score', 'label_1', 'class_1', 'score_1',
                      'label_2', 'class_2', 'score_2']
    assert out[1] == ['0', '48', '2', 'jump', '0.500000', '2', 'jump', '0.500000', '1', '', '0.300000']
