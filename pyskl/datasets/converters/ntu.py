"""NTU RGB+D 60/120: raw ``.skeleton`` files -> ``ntu60_3danno.pkl`` / ``ntu120_3danno.pkl``.

The output is meant to be identical to the annotation files the original PYSKL
released (its checkpoints were trained on them). The body selection follows
the dataset notes (``datasets/ntu/README.md``) step by step; where the notes
leave a detail open, the comments say which choice reproduces the released
files. Arithmetic is done in float32, as there, and the result stored as float16.

``.skeleton`` text format: the frame count; per frame a body count; per body a
line of 10 fields (bodyID clippedEdges handLeftConfidence handLeftState
handRightConfidence handRightState isRestricted leanX leanY trackingState),
a line with the joint count (25), and 25 lines of 12 numbers of which x, y, z
are the first three.
"""
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Optional

import numpy as np

from ...skeleton import LAYOUTS
from ...utils.progress import track
from .common import (ConversionReport, PathLike, Skipped, make_annotation_file, write_annotation_file,
                     write_label_map)
from .ntu_meta import NTU60_CLASSES, NTU120_CLASSES, NTU_MISSING_SKELETONS, XSUB_TRAIN_PERFORMERS

NUM_JOINTS = LAYOUTS['nturgb+d'].num_node  # 25
BODY_FIELDS = 10
JOINT_FIELDS = 12
FLOAT16_MAX = float(np.finfo(np.float16).max)  # 65504: keypoints are stored as float16
LENGTH_NOISE_MAX = 11  # a body seen in this many frames or fewer is noise (when others exist)
SPREAD_RATIO = 0.8  # a frame is valid when x-extent <= SPREAD_RATIO * y-extent
SPREAD_NOISE_FRACTION = 0.69754  # a body with at least this fraction of invalid frames is noise
ZERO_EPS = 1e-3  # below this sum of absolute values a frame / joint counts as empty

NAME_PATTERN = re.compile(r'S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})')


class SkeletonFormatError(ValueError):
    """A ``.skeleton`` file that is truncated or malformed, with the 1-based line at fault."""

    def __init__(self, path: PathLike, line: int, message: str):
        self.path = os.fspath(path)
        self.line = line
        self.message = message
        super().__init__(f'{self.path}, line {line}: {message}')


@dataclass(frozen=True)
class NTUName:
    """The fields of a sample name ``SsssCcccPpppRrrrAaaa``."""
    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    @property
    def label(self) -> int:
        return self.action - 1


def parse_ntu_name(name: str) -> NTUName:
    match = NAME_PATTERN.fullmatch(name)
    if match is None:
        raise ValueError(f'{name!r} is not an NTU sample name SsssCcccPpppRrrrAaaa')
    return NTUName(*(int(g) for g in match.groups()))


@dataclass(frozen=True)
class BodyTrack:
    """One body ID of a sample: its joints in the frames it appears in (consecutive)."""
    body_id: str
    start: int  # index of its first frame among the frames with at least one body
    keypoint: np.ndarray  # T, 25, 3 float32
    motion: np.float32

    @property
    def num_frames(self) -> int:
        return self.keypoint.shape[0]

    @property
    def end(self) -> int:  # exclusive
        return self.start + self.num_frames


def body_motion(keypoint: np.ndarray) -> np.float32:
    """Sum over x, y, z of the variance of all joint positions (frames and joints pooled)."""
    return np.sum(np.var(keypoint.reshape(-1, 3), axis=0))


class _Lines:
    """A cursor over a file's lines that reports the 1-based line number of what it reads."""

    def __init__(self, path: PathLike, lines: list):
        self.path, self.lines, self.pos = path, lines, 0

    def error(self, message: str, line: Optional[int] = None) -> SkeletonFormatError:
        return SkeletonFormatError(self.path, self.pos if line is None else line, message)

    def next(self, what: str) -> list:
        if self.pos >= len(self.lines):
            raise SkeletonFormatError(self.path, self.pos + 1, f'file ends where {what} was expected (truncated)')
        fields = self.lines[self.pos].split()
        self.pos += 1
        return fields

    def next_int(self, what: str) -> int:
        fields = self.next(what)
        if len(fields) != 1:
            raise self.error(f'expected {what} (one integer), got {" ".join(fields)!r}')
        try:
            return int(fields[0])
        except ValueError:
            raise self.error(f'expected {what} (one integer), got {fields[0]!r}') from None


def read_skeleton(path: PathLike) -> list:
    """Parse a ``.skeleton`` file into its bodies (``BodyTrack``), in order of first appearance.

    A frame with no body is dropped and does not count: ``start`` indexes only the
    frames with at least one body. Raises ``SkeletonFormatError`` (file and line) on a
    truncated or malformed file.
    """
    with open(path, encoding='latin-1') as f:  # ASCII in practice; never fails to decode
        lines = f.read().split('\n')  # text mode has turned '\r\n' into '\n'
    while lines and not lines[-1].strip():
        lines.pop()
    cur = _Lines(path, lines)
    num_frames = cur.next_int('the frame count')
    if num_frames < 0:
        raise cur.error(f'negative frame count {num_frames}')

    xyz_text = []  # per joint line: its first three fields
    xyz_line = []  # 1-based line number of the first joint line of each body block
    blocks = {}  # body ID -> [start frame, last frame, [block indices]]
    frame = 0  # counts frames with at least one body
    for f in range(num_frames):
        num_bodies = cur.next_int(f'the body count of frame {f + 1}')
        if num_bodies < 0:
            raise cur.error(f'negative body count {num_bodies} in frame {f + 1}')
        for b in range(num_bodies):
            header = cur.next(f'body {b + 1} of frame {f + 1}')
            if len(header) != BODY_FIELDS:
                raise cur.error(f'a body line has {BODY_FIELDS} fields (bodyID clippedEdges ... trackingState), '
                                f'got {len(header)} in frame {f + 1}')
            body_id = header[0]
            if body_id in blocks and blocks[body_id][1] == frame:
                raise cur.error(f'body {body_id} appears twice in frame {f + 1}')
            # A body that vanishes and returns has its frames taken as consecutive, as in the
            # released files (``start`` is where it was first seen).
            num_joints = cur.next_int(f'the joint count of body {body_id} in frame {f + 1}')
            if num_joints != NUM_JOINTS:
                raise cur.error(f'expected {NUM_JOINTS} joints, got {num_joints}')
            first = cur.pos
            rows = [line.split() for line in lines[first:first + NUM_JOINTS]]
            for j, fields in enumerate(rows):
                if len(fields) != JOINT_FIELDS:
                    raise SkeletonFormatError(path, first + j + 1,
                                              f'a joint line has {JOINT_FIELDS} numbers, got {len(fields)}')
            if len(rows) < NUM_JOINTS:
                raise SkeletonFormatError(path, first + len(rows) + 1, f'file ends where joint {len(rows) + 1} of '
                                          f'body {body_id} in frame {f + 1} was expected (truncated)')
            cur.pos += NUM_JOINTS
            xyz_line.append(first + 1)
            xyz_text.extend(fields[:3] for fields in rows)
            block = blocks.setdefault(body_id, [frame, frame, []])
            block[1] = frame
            block[2].append(len(xyz_line) - 1)
        if num_bodies > 0:
            frame += 1
    if cur.pos < len(lines):
        raise cur.error(f'unexpected content after the {num_frames} frames the first line announces',
                        line=cur.pos + 1)

    xyz = _parse_xyz(path, xyz_text, xyz_line).reshape(-1, NUM_JOINTS, 3)  # blocks, 25, 3
    tracks = []
    for body_id, (start, _, idx) in blocks.items():
        keypoint = np.ascontiguousarray(xyz[idx])  # T, 25, 3
        tracks.append(BodyTrack(body_id, start, keypoint, body_motion(keypoint)))
    return tracks


def _parse_xyz(path: PathLike, xyz_text: list, xyz_line: list) -> np.ndarray:
    """Joint x, y, z as float32 (parsed as float64 and rounded once, as numpy does for text)."""
    try:
        xyz = np.array([float(v) for fields in xyz_text for v in fields], dtype=np.float64).reshape(-1, 3)
    except ValueError:
        xyz = None
    if xyz is not None and (np.abs(xyz) <= FLOAT16_MAX).all():
        return xyz.astype(np.float32)
    for i, fields in enumerate(xyz_text):  # find the line at fault
        line = xyz_line[i // NUM_JOINTS] + i % NUM_JOINTS
        for value in fields:
            try:
                number = float(value)
            except ValueError:
                raise SkeletonFormatError(path, line, f'joint coordinate {value!r} is not a number') from None
            if not np.isfinite(number):
                raise SkeletonFormatError(path, line, f'joint coordinate {value!r} is not finite')
            if abs(number) > FLOAT16_MAX:  # metres in the real files; float16 would store inf
                raise SkeletonFormatError(path, line, f'joint coordinate {value!r} is beyond {FLOAT16_MAX:g}, the '
                                          'float16 range of the annotation file')
    raise AssertionError('unreachable: the joint coordinates failed to parse but every value is valid')


def _drop_spread_noise(tracks: list) -> list:
    """Step 5: drop bodies whose frames are mostly wider than tall; lower the motion of the rest."""
    kept = []
    for track in tracks:
        kp = track.keypoint
        x_extent = kp[:, :, 0].max(axis=1) - kp[:, :, 0].min(axis=1)  # float32, per frame
        y_extent = kp[:, :, 1].max(axis=1) - kp[:, :, 1].min(axis=1)
        # Compared in float64: the released files were made with numpy 1.x, where a float32
        # scalar times a Python float is a float64.
        valid = x_extent.astype(np.float64) <= SPREAD_RATIO * y_extent.astype(np.float64)
        num_valid = int(valid.sum())
        if num_valid == track.num_frames:
            kept.append(track)
            continue
        if 1 - num_valid / track.num_frames >= SPREAD_NOISE_FRACTION:
            continue
        kept.append(replace(track, motion=min(track.motion, body_motion(kp[valid]))))
    return kept


def _by_motion(tracks: list) -> list:
    return sorted(tracks, key=lambda t: -t.motion)  # stable: ties keep first-appearance order


def _trim_empty_frames(keypoint: np.ndarray) -> np.ndarray:
    """Step 7: drop leading / trailing frames where both persons are (near) zero."""
    start, end = 0, keypoint.shape[1]
    while start < end and np.sum(np.abs(keypoint[:, start])) < ZERO_EPS:
        start += 1
    while end > start and np.sum(np.abs(keypoint[:, end - 1])) < ZERO_EPS:
        end -= 1
    if start == end:  # every joint is zero: nothing to trim towards
        return keypoint
    return keypoint[:, start:end]


def select_bodies(tracks: Iterable[BodyTrack]) -> np.ndarray:
    """Turn a sample's bodies into ``keypoint`` (M x T x 25 x 3 float32, M = 1 or 2).

    Steps 2-8 of the dataset notes: sort by motion; drop bodies of <= 11 frames; drop
    spread noise; put the rest into two person slots by non-overlapping frame ranges;
    trim empty frames; swap the persons if person 0 starts empty and person 1 does not.
    Where a denoising step would drop every body it is not applied (the original stopped
    with an error there, so the released files contain no such sample).
    """
    tracks = _by_motion(tracks)
    if not tracks:
        raise ValueError('no body to select from')
    if len(tracks) == 1:
        return tracks[0].keypoint[None]

    long_enough = [t for t in tracks if t.num_frames > LENGTH_NOISE_MAX]
    tracks = long_enough or tracks
    if len(tracks) == 1:
        return tracks[0].keypoint[None]

    tracks = _by_motion(_drop_spread_noise(tracks)) or tracks
    if len(tracks) == 1:
        return tracks[0].keypoint[None]

    num_frames = max(t.end for t in tracks)
    keypoint = np.zeros((2, num_frames, NUM_JOINTS, 3), np.float32)  # M, T, V, C
    first = tracks[0]
    keypoint[0, first.start:first.end] = first.keypoint
    # Each slot's frame range [start, end). Slot 1 starts as [0, 0), so once it takes a body its
    # range reaches back to frame 0: that is how the released files were made.
    ranges = [[first.start, first.end], [0, 0]]
    for track in tracks[1:]:
        for slot, (s, e) in enumerate(ranges):
            if max(s, track.start) >= min(e, track.end):  # no frame in common
                keypoint[slot, track.start:track.end] = track.keypoint
                ranges[slot] = [min(s, track.start), max(e, track.end)]
                break
        # else: overlaps both persons and is dropped

    keypoint = _trim_empty_frames(keypoint)
    if np.sum(np.abs(keypoint[0, 0, 1])) < ZERO_EPS and np.sum(np.abs(keypoint[1, 0, 1])) > ZERO_EPS:
        keypoint = keypoint[::-1]
    return np.ascontiguousarray(keypoint)


def convert_skeleton_file(path: PathLike) -> Optional[dict]:
    """One ``.skeleton`` file -> its annotation dict, or ``None`` if it holds no body.

    Raises ``SkeletonFormatError`` for a malformed file, ``ValueError`` for a bad name.
    """
    name = Path(path).name.split('.')[0]
    label = parse_ntu_name(name).label
    tracks = read_skeleton(path)
    if not tracks:
        return None
    keypoint = select_bodies(tracks).astype(np.float16)  # M, T, 25, 3
    return dict(frame_dir=name, label=label, keypoint=keypoint, total_frames=keypoint.shape[1])


def _convert_task(path: str) -> tuple:
    """Pool worker: (name, annotation or None, Skipped or None); never raises for bad input."""
    name = Path(path).name.split('.')[0]
    try:
        anno = convert_skeleton_file(path)
    except SkeletonFormatError as err:
        return name, None, Skipped(Path(path).name, 'malformed', f'line {err.line}: {err.message}')
    except (OSError, UnicodeError) as err:
        return name, None, Skipped(Path(path).name, 'unreadable', str(err))
    if anno is None:
        return name, None, Skipped(Path(path).name, 'no-body', 'no frame holds a body')
    return name, anno, None


def ntu_splits(names: Iterable[str], ntu120: bool) -> dict:
    """Split lists (sorted by name): xsub for both, xview for NTU60, xset for NTU120."""
    names = sorted(names)
    fields = {n: parse_ntu_name(n) for n in names}
    split = dict(
        xsub_train=[n for n in names if fields[n].performer in XSUB_TRAIN_PERFORMERS],
        xsub_val=[n for n in names if fields[n].performer not in XSUB_TRAIN_PERFORMERS])
    if ntu120:
        split['xset_train'] = [n for n in names if fields[n].setup % 2 == 0]
        split['xset_val'] = [n for n in names if fields[n].setup % 2 == 1]
    else:
        split['xview_train'] = [n for n in names if fields[n].camera != 1]
        split['xview_val'] = [n for n in names if fields[n].camera == 1]
    return split


def convert_ntu(skeleton_dir: PathLike, out_dir: PathLike, num_workers: Optional[int] = None,
                missing: Optional[Iterable[str]] = None, progress: bool = True) -> ConversionReport:
    """Convert a folder of NTU ``.skeleton`` files; write the annotation files and label maps.

    Writes ``ntu60_3danno.pkl`` (actions <= 60) and ``ntu60_label_map.txt``, and, where
    any action > 60 is present, ``ntu120_3danno.pkl`` and ``ntu120_label_map.txt``.

    Args:
        skeleton_dir: the folder holding ``SsssCcccPpppRrrrAaaa.skeleton`` files.
        out_dir: where to write (created if needed).
        num_workers: processes to use (default: all cores); 1 converts in this process.
        missing: names to skip (default: the dataset authors' 535 missing/incomplete samples).
        progress: show a progress bar on stdout.
    """
    skeleton_dir, out_dir = Path(skeleton_dir), Path(out_dir)
    if not skeleton_dir.is_dir():
        raise FileNotFoundError(f'{skeleton_dir} is not a folder')
    files = sorted(skeleton_dir.glob('*.skeleton'))
    if not files:
        raise FileNotFoundError(f'no .skeleton files in {skeleton_dir}')
    missing = NTU_MISSING_SKELETONS if missing is None else frozenset(missing)

    report = ConversionReport()
    tasks = []
    for path in files:
        name = path.name.split('.')[0]
        if NAME_PATTERN.fullmatch(name) is None:
            report.skipped.append(Skipped(path.name, 'bad-name', 'not an NTU sample name SsssCcccPpppRrrrAaaa'))
        elif name in missing:
            report.skipped.append(Skipped(path.name, 'missing-list', 'listed as missing/incomplete'))
        else:
            tasks.append(os.fspath(path))

    num_workers = num_workers or _available_cores()
    results = _run(tasks, num_workers, progress)
    annotations = []
    for _, anno, skipped in results:
        if skipped is not None:
            report.skipped.append(skipped)
        else:
            annotations.append(anno)

    ntu120 = annotations
    ntu60 = [a for a in annotations if a['label'] < 60]
    if any(a['label'] >= 60 for a in annotations):
        content = make_annotation_file(ntu120, ntu_splits([a['frame_dir'] for a in ntu120], ntu120=True))
        report.written.append(write_annotation_file(content, out_dir / 'ntu120_3danno.pkl'))
        report.extra_files.append(write_label_map(NTU120_CLASSES, out_dir / 'ntu120_label_map.txt'))
    content = make_annotation_file(ntu60, ntu_splits([a['frame_dir'] for a in ntu60], ntu120=False))
    report.written.append(write_annotation_file(content, out_dir / 'ntu60_3danno.pkl'))
    report.extra_files.append(write_label_map(NTU60_CLASSES, out_dir / 'ntu60_label_map.txt'))
    return report


def _available_cores() -> int:
    if hasattr(os, 'sched_getaffinity'):  # the cores this process may use (containers, taskset)
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _run(tasks: list, num_workers: int, progress: bool) -> list:
    num_workers = min(num_workers, len(tasks))
    chunksize = max(1, min(64, len(tasks) // (num_workers * 8))) if num_workers > 1 else 1
    return track(_convert_task, tasks, num_workers, chunksize, show=progress)
