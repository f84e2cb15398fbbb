"""Shipping a trained model: export its network to ONNX or ``torch.export``, verified against PyTorch."""
from .export import (FAIL_ABOVE, FORMATS, WARN_ABOVE, ExportError, ScoresNet, export_onnx, export_recognizer,
                     export_torch, load_exported, verify_export)

__all__ = ['FAIL_ABOVE', 'FORMATS', 'WARN_ABOVE', 'ExportError', 'ScoresNet', 'export_onnx', 'export_recognizer',
           'export_torch', 'load_exported', 'verify_export']
