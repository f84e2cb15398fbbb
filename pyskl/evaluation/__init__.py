"""Accuracies, mmengine metrics, plots and stream fusion."""
from .accuracy import confusion_matrix, mean_class_accuracy, top_k_accuracy
from .ensemble import ensemble, fuse_scores, labels_from_annotation, load_labels, load_result_scores
from .metrics import (MEAN_CLASS_KEY, TOP1_KEY, AccMetric, ConfusionMatrix, DumpScores, MeanClassAccuracy,
                      TopKAccuracy)

__all__ = [
    'top_k_accuracy', 'mean_class_accuracy', 'confusion_matrix', 'AccMetric', 'TopKAccuracy', 'MeanClassAccuracy',
    'ConfusionMatrix', 'DumpScores', 'TOP1_KEY', 'MEAN_CLASS_KEY', 'ensemble', 'fuse_scores',
    'labels_from_annotation', 'load_labels', 'load_result_scores'
]
