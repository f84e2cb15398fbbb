from .recognizer_gcn import RecognizerGCN

__all__ = ['RecognizerGCN']
