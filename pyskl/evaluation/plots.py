"""Figures a user would rather look at than read: the confusion matrix and the training curves.

Everything is drawn with matplotlib's non-interactive Agg canvas (no display
needed, safe in worker processes) and written atomically, so a reader never
sees a half-written file.
"""
import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Optional, Union

import numpy as np

from pyskl.utils.fileio import atomic_write

PathLike = Union[str, os.PathLike]


def _figure(width: float, height: float):
    # Figure + FigureCanvasAgg, not pyplot: no global figure state, no GUI backend.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save_figure(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format='png')
    atomic_write(buf.getvalue(), path)


def class_names_or_indices(num_classes: int, class_names: Optional[Sequence[str]] = None) -> list[str]:
    if class_names is None:
        return [str(i) for i in range(num_classes)]
    if len(class_names) != num_classes:
        raise ValueError(f'{len(class_names)} class names given for {num_classes} classes')
    return [str(c) for c in class_names]


def write_confusion_matrix_csv(matrix: np.ndarray, path: PathLike,
                               class_names: Optional[Sequence[str]] = None) -> Path:
    """Rows are true classes, columns predicted classes; first row and column hold the names."""
    path = Path(path)
    names = class_names_or_indices(len(matrix), class_names)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')
    writer.writerow(['true \\ predicted'] + names)
    for name, row in zip(names, matrix):
        writer.writerow([name] + [int(v) if float(v).is_integer() else f'{float(v):.6g}' for v in row])
    atomic_write(buf.getvalue(), path)
    return path


def read_confusion_matrix_csv(path: PathLike) -> tuple[np.ndarray, list[str]]:
    """The matrix and class names written by :func:`write_confusion_matrix_csv`."""
    with open(path, newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f))
    names = rows[0][1:]
    matrix = np.array([[float(v) for v in row[1:]] for row in rows[1:]])
    return matrix, names


def plot_confusion_matrix(matrix: np.ndarray, path: PathLike, class_names: Optional[Sequence[str]] = None,
                          title: str = 'Confusion matrix') -> Path:
    """Draw the matrix normalised per true class (rows), with the counts written in the cells
    when there are few enough classes to read them."""
    path = Path(path)
    matrix = np.asarray(matrix, dtype=np.float64)
    n = len(matrix)
    names = class_names_or_indices(n, class_names)
    row_sum = matrix.sum(axis=1, keepdims=True)
    recall = np.divide(matrix, row_sum, out=np.zeros_like(matrix), where=row_sum > 0)

    size = min(4 + 0.45 * n, 40)
    fig = _figure(size + 1.5, size)
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(recall, cmap='Blues', vmin=0, vmax=1, interpolation='nearest')
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label='fraction of the true class')
    label_size = max(4, min(10, 300 / max(n, 1)))
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(names, rotation=60, ha='right', fontsize=label_size)
    ax.set_yticklabels(names, fontsize=label_size)
    ax.set_xlabel('predicted')
    ax.set_ylabel('true')
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    ax.set_title(f'{title} (top-1 {100 * accuracy:.1f} %, {int(matrix.sum())} samples)')
    if n <= 30:
        for i in range(n):
            for j in range(n):
                if matrix[i, j]:
                    value = int(matrix[i, j]) if float(matrix[i, j]).is_integer() else f'{matrix[i, j]:.2g}'
                    ax.text(j, i, value, ha='center', va='center', fontsize=max(5, label_size - 1),
                            color='white' if recall[i, j] > 0.5 else 'black')
    fig.tight_layout()
    _save_figure(fig, path)
    return path


def plot_training_curves(path: PathLike, train_steps: Sequence[float], losses: Sequence[float],
                         lrs: Sequence[float], val_epochs: Sequence[float] = (),
                         val_top1: Sequence[float] = (), val_name: str = 'top1_acc',
                         title: Optional[str] = None) -> Path:
    """Three panels over epochs: training loss (per iteration, and its mean per epoch),
    learning rate, and validation top-1.

    ``train_steps`` are fractional epochs (``iteration / iterations_per_epoch``),
    one per loss and learning-rate value.
    """
    path = Path(path)
    steps = np.asarray(train_steps, dtype=np.float64)
    losses = np.asarray(losses, dtype=np.float64)
    lrs = np.asarray(lrs, dtype=np.float64)
    fig = _figure(7, 8.5)
    ax_loss, ax_lr, ax_acc = (fig.add_subplot(3, 1, i) for i in (1, 2, 3))

    if len(steps):
        ax_loss.plot(steps, losses, color='tab:blue', alpha=0.35, linewidth=0.8, label='per iteration')
        epoch_of = np.ceil(steps - 1e-9).astype(int)  # iteration i of epoch e has step in (e-1, e]
        epochs = np.unique(epoch_of)
        means = [losses[epoch_of == e].mean() for e in epochs]
        ax_loss.plot(epochs, means, 'o-', color='tab:blue', label='epoch mean')
        ax_loss.legend(loc='upper right', fontsize=8)
        ax_lr.plot(steps, lrs, color='tab:orange')
    else:
        ax_loss.text(0.5, 0.5, 'no training iterations logged', ha='center', transform=ax_loss.transAxes)
    ax_loss.set_ylabel('training loss')
    ax_lr.set_ylabel('learning rate')
    ax_lr.ticklabel_format(axis='y', style='sci', scilimits=(-3, 3))

    if len(val_epochs):
        values = np.asarray(val_top1, dtype=np.float64)
        ax_acc.plot(val_epochs, values, 's-', color='tab:green')
        best = int(np.argmax(values))
        ax_acc.annotate(f'best {values[best]:.4f} (epoch {val_epochs[best]:g})',
                        (val_epochs[best], values[best]), textcoords='offset points', xytext=(0, -14),
                        ha='center', fontsize=8)
    else:
        ax_acc.text(0.5, 0.5, 'no validation yet (train with --validate)', ha='center',
                    transform=ax_acc.transAxes)
    ax_acc.set_ylabel(f'validation {val_name}')
    ax_acc.set_xlabel('epoch')
    for ax in (ax_loss, ax_lr, ax_acc):
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    _save_figure(fig, path)
    return path


def plot_timeline(path: PathLike, starts: Sequence[int], ends: Sequence[int], scores: np.ndarray,
                  class_names: Optional[Sequence[str]] = None, num_shown: int = 5) -> Path:
    """The score of the top classes over a recording, one point per window (at its centre frame):
    the ``num_shown`` classes with the highest score in any window; the predicted class of each
    window is marked along the top."""
    scores = np.asarray(scores, dtype=float)  # windows x classes
    names = class_names_or_indices(scores.shape[1], class_names)
    centres = (np.asarray(starts) + np.asarray(ends)) / 2
    shown = np.argsort(-scores.max(axis=0), kind='stable')[:num_shown]
    fig = _figure(10, 4)
    ax = fig.add_subplot(1, 1, 1)
    for c in shown:
        ax.plot(centres, scores[:, c], marker='o', markersize=3, label=names[c])
    best = scores.argmax(axis=1)
    colours = {c: line.get_color() for c, line in zip(shown, ax.get_lines())}
    ax.scatter(centres, np.full(len(centres), 1.04), c=[colours.get(b, 'grey') for b in best], marker='s', s=12,
               clip_on=False)
    ax.set_ylim(0, 1.08 if scores.max() <= 1 else None)
    ax.set_xlabel('frame (window centre)')
    ax.set_ylabel('score')
    ax.set_title('Top classes over time (squares: predicted class of each window)')
    ax.legend(loc='center left', bbox_to_anchor=(1.01, 0.5), fontsize='small')
    fig.tight_layout()
    path = Path(path)
    _save_figure(fig, path)
    return path
