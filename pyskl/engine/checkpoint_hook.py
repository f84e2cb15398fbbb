"""A checkpoint hook whose saves a kill cannot corrupt."""
import glob
import os.path as osp
import re
from contextlib import contextmanager
from pathlib import Path

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.fileio.backends.base import BaseStorageBackend
from mmengine.hooks import CheckpointHook

from pyskl.registry import HOOKS
from pyskl.utils.fileio import atomic_write, remove_stale_temporaries
from pyskl.utils.run_errors import NoSpaceLeftError, is_out_of_space

ATOMIC_BACKEND = 'pyskl_atomic_local'


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose writes are atomic (:func:`pyskl.utils.fileio.atomic_write`)."""

    def put(self, obj: bytes, filepath: str | Path) -> None:
        atomic_write(obj, filepath)

    def put_text(self, obj: str, filepath: str | Path, encoding: str = 'utf-8') -> None:
        atomic_write(obj, filepath, encoding=encoding)


register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)


class _DeferredRemovals:
    """Stands in for a file backend and holds back ``remove``/``rmtree`` until :meth:`flush`."""

    def __init__(self, backend: BaseStorageBackend):
        self.backend = backend
        self.pending: list[str] = []

    def remove(self, path: str) -> None:
        self.pending.append(path)

    def rmtree(self, path: str) -> None:
        self.pending.append(path)

    def flush(self) -> None:
        for path in self.pending:
            if self.backend.isfile(path):
                self.backend.remove(path)
            elif self.backend.isdir(path):  # checkpoints saved by DeepSpeed are folders
                self.backend.rmtree(path)
        self.pending.clear()

    def __getattr__(self, name):
        return getattr(self.backend, name)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments) made safe against a kill at any moment.

    - Each checkpoint, and ``work_dir/last_checkpoint`` which names the newest one, is
      written to a temporary file and renamed over its target: a kill leaves the previous
      complete file, never a truncated one.
    - A checkpoint that falls out of ``max_keep_ckpts``, and the previous best checkpoint,
      are deleted only after the new one is complete, so the last good checkpoint exists
      at every moment.
    - Temporary files a killed run left behind are removed when training starts; so are, on
      resume, best checkpoints other than the ones the resumed checkpoint names (left by a
      save that failed between writing the new best and deleting the old).
    - A save that fails for lack of disk space ends the run with a one-line
      :class:`~pyskl.utils.run_errors.NoSpaceLeftError` naming the last good checkpoint.

    Checkpoints go through the atomic local backend unless ``backend_args`` or an
    ``out_dir`` with a URI prefix (``s3://...``) picks another storage.
    """

    def __init__(self, *args, out_dir: str | None = None, backend_args: dict | None = None,
                 file_client_args: dict | None = None, **kwargs):
        if backend_args is None and file_client_args is None and (out_dir is None or '://' not in str(out_dir)):
            backend_args = dict(backend=ATOMIC_BACKEND)
        super().__init__(*args, out_dir=out_dir, backend_args=backend_args, file_client_args=file_client_args,
                         **kwargs)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process() and osp.isdir(str(self.out_dir)):
            stale = remove_stale_temporaries(str(self.out_dir))
            if stale:
                runner.logger.info(f'Removed {len(stale)} partial checkpoint file(s) left by an interrupted save')
            if self.save_best is not None and runner._has_loaded and runner._resume:
                self._remove_stale_best(runner)

    def _remove_stale_best(self, runner) -> None:
        """Delete ``best_*`` checkpoints that are not the ones the resumed run knows as best."""
        current = {self.best_ckpt_path} if len(self.key_indicators) == 1 else set(self.best_ckpt_path_dict.values())
        current = {osp.abspath(p) for p in current if p}
        pattern = re.compile(r'^best_.+_(epoch|iter)_\d+\.pth$')
        for path in glob.glob(osp.join(glob.escape(str(self.out_dir)), 'best_*.pth')):
            if pattern.match(osp.basename(path)) and osp.abspath(path) not in current:
                self.file_backend.remove(path)
                runner.logger.info(f'Removed {path}: a best checkpoint of a save that did not complete')

    @contextmanager
    def _one_line_if_out_of_space(self, runner):
        try:
            yield
        except OSError as e:
            if isinstance(e, NoSpaceLeftError) or not is_out_of_space(e):
                raise
            record = osp.join(runner.work_dir, 'last_checkpoint')
            last = open(record, encoding='utf-8').read().strip() if osp.isfile(record) else ''
            good = f'the last good checkpoint is {last}' if last else 'no checkpoint was saved before'
            raise NoSpaceLeftError(f'No space left on the device of {self.out_dir} to save a checkpoint; {good} '
                                   '(intact): free space and run the same command again to resume') from e

    @contextmanager
    def _removals_after_save(self):
        """Hold back deletions made inside the block until it completes (not at all if it fails)."""
        if isinstance(self.file_backend, _DeferredRemovals):  # nested: the outer block flushes
            yield
            return
        deferred = _DeferredRemovals(self.file_backend)
        self.file_backend = deferred
        try:
            yield
        finally:
            self.file_backend = deferred.backend
        if is_main_process():
            deferred.flush()

    def _save_checkpoint_with_step(self, runner, step, meta):
        with self._one_line_if_out_of_space(runner), self._removals_after_save():
            if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
                # the same step can be saved twice (after a new best): keep it once
                if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                    outdated = self.keep_ckpt_ids.popleft()
                    if is_main_process():
                        self.file_backend.remove(
                            self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(outdated)))
                self.keep_ckpt_ids.append(step)
                runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

            filename = self.filename_tmpl.format(step)
            self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
            runner.message_hub.update_info('last_ckpt', self.last_ckpt)
            runner.save_checkpoint(
                self.out_dir, filename, self.file_client_args, save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=self.by_epoch,
                backend_args=self.backend_args, **self.args)
            if is_main_process():
                atomic_write(str(self.last_ckpt), osp.join(runner.work_dir, 'last_checkpoint'))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        with self._one_line_if_out_of_space(runner), self._removals_after_save():
            super()._save_best_checkpoint(runner, metrics)
