"""Using a trained model: ``init_recognizer``, ``inference_recognizer`` and predictions over
long recordings. (Training and testing runs are :mod:`pyskl.runner`'s.)"""
from .inference import clip_layout, inference_recognizer, init_recognizer, preprocess
from .recordings import predict_recording, predictions_csv, read_recording, window_bounds

__all__ = [
    'init_recognizer', 'inference_recognizer', 'preprocess', 'clip_layout', 'read_recording', 'predict_recording',
    'predictions_csv', 'window_bounds'
]
