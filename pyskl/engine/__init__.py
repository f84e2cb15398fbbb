"""Hooks and run-time helpers for mmengine's Runner."""
from .curves_hook import TrainingCurvesHook

__all__ = ['TrainingCurvesHook']
