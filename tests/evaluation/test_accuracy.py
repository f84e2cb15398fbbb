import numpy as np
import pytest

from pyskl.evaluation.accuracy import confusion_matrix, mean_class_accuracy, top_k_accuracy

# 4 samples, 3 classes; predictions 1, 0, 2, 0 against labels 1, 0, 1, 2
SCORES = np.array([[.1, .9, 0.], [.8, .1, .1], [.2, .3, .5], [.6, .3, .1]])
LABELS = np.array([1, 0, 1, 2])


def test_top_k_accuracy_hand_computed():
    # top-1: samples 0 and 1 right; top-2 adds sample 2 (label 1 is second best); sample 3 has label 2 last
    assert top_k_accuracy(SCORES, LABELS, (1, 2, 3)) == [0.5, 0.75, 1.0]
    assert top_k_accuracy(SCORES, LABELS, 1) == [0.5]
    # k beyond the number of classes counts every sample as a hit
    assert top_k_accuracy(SCORES, LABELS, (5, )) == [1.0]


def test_top_k_ties_go_to_the_lower_class_index():
    scores = np.array([[0.5, 0.5, 0.0]])
    assert top_k_accuracy(scores, [0], (1, )) == [1.0]
    assert top_k_accuracy(scores, [1], (1, )) == [0.0]


def test_mean_class_accuracy_hand_computed():
    # class 0: 1/1, class 1: 1/2, class 2: 0/1 -> mean 0.5 (plain accuracy is also 0.5, so check another)
    assert mean_class_accuracy(SCORES, LABELS) == pytest.approx(0.5)
    scores = np.eye(3)[[0, 0, 0, 1, 2]]  # predictions 0 0 0 1 2
    labels = np.array([0, 0, 0, 2, 2])  # class 0: 3/3, class 2: 1/2; class 1 absent from labels
    assert mean_class_accuracy(scores, labels) == pytest.approx((1 + 0.5) / 2)
    assert top_k_accuracy(scores, labels, 1) == [pytest.approx(4 / 5)]


def test_confusion_matrix_counts_and_normalisation():
    cm = confusion_matrix([1, 0, 2, 0], [1, 0, 1, 2])
    np.testing.assert_array_equal(cm, [[1, 0, 0], [0, 1, 1], [1, 0, 0]])
    assert confusion_matrix([0], [0], num_classes=4).shape == (4, 4)
    np.testing.assert_allclose(confusion_matrix([1, 0, 2, 0], [1, 0, 1, 2], normalize='true'),
                               [[1, 0, 0], [0, .5, .5], [1, 0, 0]])
    np.testing.assert_allclose(confusion_matrix([1, 0, 2, 0], [1, 0, 1, 2], normalize='pred'),
                               [[.5, 0, 0], [0, 1, 1], [.5, 0, 0]])
    assert confusion_matrix([1, 0, 2, 0], [1, 0, 1, 2], normalize='all').sum() == pytest.approx(1)


def test_bad_input_is_refused_with_a_message():
    with pytest.raises(ValueError, match='N x num_classes'):
        top_k_accuracy(np.zeros(3), [0, 1, 2])
    with pytest.raises(ValueError, match='one per score row'):
        top_k_accuracy(SCORES, [0, 1])
    with pytest.raises(ValueError, match=r'\[0, 3\)'):
        mean_class_accuracy(SCORES, [0, 1, 2, 3])
    with pytest.raises(ValueError, match='k >= 1'):
        top_k_accuracy(SCORES, LABELS, (0, ))
    with pytest.raises(ValueError, match='num_classes=2'):
        confusion_matrix([0, 2], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match='normalize'):
        confusion_matrix([0], [0], normalize='rows')
