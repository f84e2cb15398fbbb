"""A folder of per-video pose-estimator outputs plus a ``name,label,split`` CSV -> 2D annotation pickle.

Each CSV row's ``name`` is found in the folder as ``NAME.json`` (mmpose
``--save-predictions``) or as a folder ``NAME/`` of OpenPose ``--write_json``
frame files (see :mod:`.pose_json`). Persons are kept per frame by score (see
:func:`.pose_json.frames_to_skeleton`); nothing tracks them across frames. A video
that is missing, unreadable or has no person in any frame is skipped and reported,
as are the persons beyond ``max_person`` (counted) and the outputs the CSV does not
list.
"""
from pathlib import Path
from typing import Optional

import numpy as np

from .arrays import arrays_to_annotations, read_labels_csv
from .common import ConversionReport, PathLike, Skipped, write_annotation_file
from .pose_json import PoseJsonError, frames_to_skeleton, read_mmpose_json, read_openpose_folder


def read_video(path: Path, layout: str) -> list[np.ndarray]:
    """The per-frame persons of one video's output (mmpose file or OpenPose folder)."""
    if path.is_dir():
        return read_openpose_folder(path, layout)
    frames = read_mmpose_json(path)
    joints = {f.shape[1] for f in frames if f.size}
    expected = {'coco': 17, 'openpose': 18}[layout]
    if joints and joints != {expected}:
        raise PoseJsonError(f'{path}: {sorted(joints)} joints a person, but the {layout!r} layout has {expected}')
    return frames


def pose_json_to_annotations(input_dir: PathLike, labels_csv: PathLike, out_pkl: Optional[PathLike],
                             img_shape: tuple, layout: str = 'coco', max_person: int = 10,
                             num_classes: Optional[int] = None, report: Optional[ConversionReport] = None,
                             dtype=np.float32) -> dict:
    """Build (and optionally write) the 2D annotation dict; skips are added to ``report``.

    Raises:
        ValueError / FileNotFoundError: the folder or CSV is unusable, or no video is left.
    """
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise FileNotFoundError(f'{input_dir} is not a folder')
    if isinstance(max_person, bool) or not isinstance(max_person, int) or max_person < 1:
        raise ValueError(f'max_person must be a positive integer, got {max_person!r}')
    report = report if report is not None else ConversionReport(count_only_kinds=())
    samples, listed, dropped = [], set(), 0
    for line, name, label, split in read_labels_csv(labels_csv):
        if name in listed:
            raise ValueError(f'{labels_csv}, row {line}: field "name" {name!r} is listed twice')
        listed.add(name)
        candidates = [input_dir / f'{name}.json', input_dir / name]
        path = next((p for p in candidates if p.exists()), None)
        if path is None:
            report.skipped.append(Skipped(name, 'missing', f'neither {candidates[0]} nor the folder {candidates[1]}'))
            continue
        try:
            frames = read_video(path, layout)
        except PoseJsonError as err:
            report.skipped.append(Skipped(name, 'unreadable', str(err)))
            continue
        if not any(len(f) for f in frames):
            report.skipped.append(Skipped(name, 'no-person', f'{path}: no person in any of its {len(frames)} frames'))
            continue
        skeleton, lost = frames_to_skeleton(frames, max_person)
        dropped += lost
        samples.append((name, skeleton, label, split))
    for path in sorted(input_dir.iterdir()):
        stem = path.stem if path.suffix == '.json' else path.name
        if stem not in listed:
            report.skipped.append(Skipped(path.name, 'not-in-csv', f'{Path(labels_csv).name} has no row for it'))
    if not samples:
        raise ValueError(f'{input_dir}: no video could be converted ({len(report.skipped)} skipped)')
    content = arrays_to_annotations(samples, num_classes=num_classes, img_shape=tuple(img_shape), score_last=True,
                                    dtype=dtype)
    if dropped:
        report.notes.append(f'{dropped} person(s) beyond max_person={max_person} left out of their frames')
    if out_pkl is not None:
        report.written.append(write_annotation_file(content, out_pkl))
    return content
