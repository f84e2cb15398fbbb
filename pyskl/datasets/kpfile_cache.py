"""Packing the keypoints of a compressed (Kinetics) annotation file's kpfiles into the cache.

Every kpfile is read once, in parallel (one task per kpfile), and its videos'
keypoints are written as one shard in ``<cache>.partial/``. A shard is
complete when its ``.json`` exists (written after its ``.npy``, both renamed
into place), so an interrupted build resumes with the kpfiles not yet done;
a shard whose kpfile changed since is redone. The shards are then copied into
the memory-mapped store and the cache folder appears in one rename
(:func:`pyskl.datasets.cache_folder.write_cache`): a half-written cache is
never used. Concurrent builders (ranks of one machine) take turns on a lock
file, so the second finds the cache the first wrote.
"""
import fcntl
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from typing import Optional

import numpy as np

from pyskl.utils.fileio import atomic_path, atomic_write
from pyskl.utils.progress import track
from .annotation_checks import BadSample
from .cache_folder import read_cache_meta, write_cache
from .kpfiles import KpfileError, read_kpfile, resolve_kpfile, video_keypoint
from .packed_annotations import PackedAnnotations, RaggedArrays


def kpfile_groups(samples: list[dict], ann_file: str, kpfile_dir: Optional[str]) -> dict[str, list[int]]:
    """Sample positions by kpfile path, in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for i, sample in enumerate(samples):
        groups.setdefault(resolve_kpfile(sample['raw_file'], ann_file, kpfile_dir), []).append(i)
    return groups


def kpfile_stamp(path: str) -> Optional[list]:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def kpfiles_digest(paths) -> str:
    """One hash of the kpfiles' sizes and modification times: the cache is rebuilt when one changes."""
    h = hashlib.sha1()
    for path in sorted(paths):
        h.update(json.dumps([os.path.abspath(path), kpfile_stamp(path)]).encode())
    return h.hexdigest()


def _save_npy(path: str, array: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, 'wb') as f:  # a file object: np.save adds no suffix
        np.save(f, array, allow_pickle=False)


def pack_kpfile(task: tuple) -> int:
    """Read one kpfile and write its shard: the keypoints of ``videos`` (frame_dir, num_boxes)
    concatenated in that order, and a json of the videos kept and the problems met."""
    path, videos, shard, num_joints = task
    kept, bad, arrays = [], [], []
    try:
        kpfile = read_kpfile(path)
    except KpfileError as err:
        names = [v for v, _ in videos]
        holds = ', '.join(map(repr, names[:5])) + (f' and {len(names) - 5} more' if len(names) > 5 else '')
        bad = [[v, 'raw_file', f'{err}; it holds {len(names)} video(s): {holds}'] for v in names]
    else:
        for frame_dir, num_boxes in videos:
            try:
                arrays.append(video_keypoint(kpfile, path, frame_dir, num_boxes, num_joints))
                kept.append(frame_dir)
            except KpfileError as err:
                bad.append([frame_dir, 'keypoint' if frame_dir in kpfile else 'frame_dir', str(err)])
        del kpfile
    if arrays:
        dtype = np.result_type(*{a.dtype for a in arrays})
        dtype = dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float32)
        joints = {a.shape[1] for a in arrays}
        data = np.concatenate([a.astype(dtype, copy=False).reshape(-1) for a in arrays])
        shapes = [list(a.shape) for a in arrays]
    else:
        data, shapes, joints = np.zeros(0, np.float32), [], set()
    _save_npy(shard + '.npy', data)
    info = dict(kpfile=path, stamp=kpfile_stamp(path), kept=kept, shapes=shapes, bad=bad, joints=sorted(joints))
    atomic_write(json.dumps(info), shard + '.json')  # last: the shard is complete
    return len(kept)


@contextmanager
def _lock(path: str):
    with open(path, 'a') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _done_shards(partial: str, tasks: list) -> set[int]:
    done = set()
    for k, (path, videos, shard, _) in enumerate(tasks):
        try:
            with open(shard + '.json', encoding='utf-8') as f:
                info = json.load(f)
        except (OSError, ValueError):
            continue
        if info.get('stamp') == kpfile_stamp(path) and len(info['kept']) + len(info['bad']) == len(videos) \
                and os.path.exists(shard + '.npy'):
            done.add(k)
    return done


def build_kpfile_cache(folder: str, samples: list[dict], source: dict, ann_file: str,
                       kpfile_dir: Optional[str] = None, num_joints: Optional[int] = None,
                       num_workers: Optional[int] = None, extra_meta: Optional[dict] = None,
                       known_bad: Optional[list] = None, show_progress: bool = True) -> dict:
    """Pack the kpfiles of ``samples`` (well-formed compressed samples) into the cache ``folder``.

    ``source`` is what the cache is built from (it goes to ``meta['source']``
    with the kpfiles' digest). The keypoint-less ``samples`` are packed as they
    are (their fields are popped). Videos whose kpfile is missing or corrupt,
    or that are missing from it or malformed there, are left out and listed in
    ``meta['structural']`` as ``[index, frame_dir, field, problem]``, ``index``
    being the position in ``samples``; the dataset raises or skips them as
    configured, after ``known_bad`` (the same form: the annotation file's own
    problems). Returns the meta written.
    """
    groups = kpfile_groups(samples, ann_file, kpfile_dir)
    # shards stay valid while the annotation file is the same; each checks its own kpfile
    annotation_source = {k: v for k, v in source.items() if k != 'kpfiles'}
    source = dict(source, kpfiles=kpfiles_digest(groups))
    try:
        os.makedirs(os.path.dirname(os.path.abspath(folder)), exist_ok=True)
        open(folder + '.lock', 'a').close()
    except OSError as err:
        raise OSError(f'{ann_file}: cannot write the kpfile cache {folder} ({err}); '
                      'give PoseDataset(cache=<a writable folder>)') from err
    with _lock(folder + '.lock'):
        meta = read_cache_meta(folder)
        if meta is not None and meta.get('source') == source:  # another process built it meanwhile
            return meta
        partial = folder + '.partial'
        os.makedirs(partial, exist_ok=True)
        stamp_path = os.path.join(partial, 'source.json')
        try:
            with open(stamp_path, encoding='utf-8') as f:
                previous = json.load(f)
        except (OSError, ValueError):
            previous = None
        if previous != annotation_source:  # shards of another annotation file: start afresh
            shutil.rmtree(partial)
            os.makedirs(partial)
            atomic_write(json.dumps(annotation_source), stamp_path)
        tasks = [(path, [(samples[i]['frame_dir'], len(samples[i]['frame_inds'])) for i in index],
                  os.path.join(partial, f'{k:06d}'), num_joints)
                 for k, (path, index) in enumerate(groups.items())]
        done = _done_shards(partial, tasks)
        todo = [t for k, t in enumerate(tasks) if k not in done]
        if todo:
            workers = num_workers or len(os.sched_getaffinity(0))
            print(f'{ann_file}: packing {len(todo)} of {len(tasks)} kpfile(s) into {folder} '
                  f'with {min(workers, len(todo))} process(es)' + (f' ({len(done)} done before)' if done else ''),
                  flush=True)
            track(pack_kpfile, todo, num_workers=workers, show=show_progress)
        meta = _assemble(folder, samples, tasks, groups, source, extra_meta or {}, known_bad or [])
        if meta is None:
            raise OSError(f'{ann_file}: cannot write the kpfile cache {folder}; '
                          'give PoseDataset(cache=<a writable folder>)')
        shutil.rmtree(partial, ignore_errors=True)
    return meta


def _assemble(folder, samples, tasks, groups, source, extra_meta, known_bad) -> Optional[dict]:
    """Copy the shards into one store in annotation order and publish the cache folder."""
    bad: dict[int, list] = {}
    found: dict[int, tuple[int, int, list]] = {}  # sample -> (shard, flat offset in the shard, shape)
    infos = []
    for k, ((path, videos, shard, _), index) in enumerate(zip(tasks, groups.values())):
        with open(shard + '.json', encoding='utf-8') as f:
            info = json.load(f)
        infos.append(info)
        by_name = {name: i for i, name in zip(index, (v for v, _ in videos))}
        offset = 0
        for name, shape in zip(info['kept'], info['shapes']):
            found[by_name[name]] = (k, offset, shape)
            offset += int(np.prod(shape))
        for name, field, problem in info['bad']:
            bad[by_name[name]] = [by_name[name], name, field, problem]
    keep = [i for i in range(len(samples)) if i in found]
    dtypes = {np.load(t[2] + '.npy', mmap_mode='r').dtype for k, t in enumerate(tasks) if infos[k]['kept']}
    dtype = np.result_type(*dtypes) if dtypes else np.dtype(np.float32)
    shapes = np.array([found[i][2] for i in keep], dtype=np.int64).reshape(len(keep), 3)
    offsets = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(shapes.prod(axis=1), out=offsets[1:])
    packed = PackedAnnotations.pack([samples[i] for i in keep], compressed=True)

    def fill(tmp):
        data = np.lib.format.open_memmap(os.path.join(tmp, 'keypoint.data.npy'), mode='w+', dtype=dtype,
                                         shape=(int(offsets[-1]), ))
        position = {i: j for j, i in enumerate(keep)}
        for k, (path, videos, shard, _) in enumerate(tasks):
            if not infos[k]['kept']:
                continue
            src = np.load(shard + '.npy', mmap_mode='r')
            for i in groups[path]:
                if i in position:
                    j = position[i]
                    start = found[i][1]
                    data[offsets[j]:offsets[j + 1]] = src[start:start + offsets[j + 1] - offsets[j]]
            del src
        data.flush()
        del data
        packed.keypoint = RaggedArrays(np.zeros(0, dtype), offsets, shapes)  # data written above
        for name, array in packed.arrays().items():
            if name != 'keypoint.data':
                np.save(os.path.join(tmp, f'{name}.npy'), array, allow_pickle=False)

    meta = dict(extra_meta, source=source, structural=list(known_bad) + [bad[i] for i in sorted(bad)],
                kpfile_paths=list(groups))
    return meta if write_cache(folder, fill, meta) else None

