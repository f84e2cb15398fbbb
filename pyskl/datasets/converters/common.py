"""What every converter shares: the record of what it wrote and skipped, and file output."""
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence, Union

import numpy as np

PathLike = Union[str, os.PathLike]


@dataclass(frozen=True)
class Skipped:
    """One input that did not become a sample, and why."""
    name: str  # the file (or sample) name
    kind: str  # a short category, e.g. 'malformed', 'missing-list', 'no-body'
    reason: str


@dataclass(frozen=True)
class Written:
    """One annotation file written by a converter."""
    path: str
    num_samples: int
    num_classes: int
    splits: dict  # split name -> number of samples


@dataclass
class ConversionReport:
    """What a conversion wrote and what it skipped; ``summary()`` is what the CLIs print."""
    written: list = field(default_factory=list)  # [Written]
    skipped: list = field(default_factory=list)  # [Skipped]
    extra_files: list = field(default_factory=list)  # label maps and the like
    notes: list = field(default_factory=list)  # other things worth a line (e.g. persons left out)
    # Categories too long to list name by name (e.g. a dataset's known-missing list): counted only.
    count_only_kinds: tuple = ('missing-list', )

    def skipped_by_kind(self) -> Counter:
        return Counter(s.kind for s in self.skipped)

    def summary(self) -> str:
        lines = []
        for w in self.written:
            splits = ', '.join(f'{name} {n}' for name, n in w.splits.items())
            lines.append(f'wrote {w.path}: {w.num_samples} samples, {w.num_classes} classes ({splits})')
        for path in self.extra_files:
            lines.append(f'wrote {path}')
        lines.extend(self.notes)
        counts = self.skipped_by_kind()
        if not counts:
            lines.append('skipped nothing')
        else:
            total = sum(counts.values())
            parts = ', '.join(f'{n} {kind}' for kind, n in sorted(counts.items()))
            lines.append(f'skipped {total} input(s): {parts}')
            for s in self.skipped:
                if s.kind not in self.count_only_kinds:
                    lines.append(f'  skipped {s.name} ({s.kind}): {s.reason}')
        return '\n'.join(lines)


def skips_in_a_line(report: ConversionReport) -> str:
    """How many inputs were left out and the first one's reason, for an error that ends a conversion."""
    if not report.skipped:
        return 'nothing to convert'
    first = report.skipped[0]
    return f'{len(report.skipped)} skipped, e.g. {first.name} ({first.kind}): {first.reason}'


def stored_as(array, dtype) -> np.ndarray:
    """``array`` in the annotation file's ``dtype``; a ``ValueError`` where a value does not fit it."""
    with np.errstate(over='ignore'):
        out = np.asarray(array).astype(dtype)
    if not np.isfinite(out).all():
        raise ValueError(f'a value beyond the {np.dtype(dtype).name} range of the annotation file '
                         f'({float(np.finfo(dtype).max):g}); convert with --float32')
    return out


def split_sizes(split: dict) -> dict:
    return {name: len(names) for name, names in split.items()}


def make_annotation_file(annotations: Sequence[dict], split: dict) -> dict:
    """The annotation pickle's content: samples sorted by ``frame_dir``, split lists sorted too."""
    annotations = sorted(annotations, key=lambda a: a['frame_dir'])
    return dict(split={name: sorted(names) for name, names in split.items()}, annotations=annotations)


def write_annotation_file(content: dict, path: PathLike) -> Written:
    """Write ``content`` (see ``make_annotation_file``) atomically; return its record."""
    from pyskl.utils.safe_pickle import dump_pickle  # lazy: keeps importing a converter light
    dump_pickle(content, path)
    labels = {a['label'] for a in content['annotations']}
    return Written(os.fspath(path), len(content['annotations']), len(labels), split_sizes(content['split']))


def write_label_map(names: Iterable[str], path: PathLike) -> str:
    """A label map: one class name a line, in label order (UTF-8)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(f'{n}\n' for n in names), encoding='utf-8')
    return os.fspath(path)
