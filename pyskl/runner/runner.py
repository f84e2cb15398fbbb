"""mmengine's Runner with checked, weights-only checkpoint loading and a console a person can read."""
import logging
import os
import os.path as osp

from mmengine.device import get_device
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from pyskl.datasets.transforms.base import set_run_seed
from pyskl.models.checkpoint import CheckpointMismatchError, load_weights, read_checkpoint, state_dict_of
from pyskl.utils.machine import describe_machine
from pyskl.utils.work_dir_lock import lock_work_dir, unlock_work_dir
from .launch import dies_with_parent
from .run_config import test_evaluator


#: Log records shown in the log file only: the environment and config dumps, the hook table and the
#: machine (:func:`~pyskl.utils.machine.describe_machine`, read back by results tables).
FILE_ONLY_PREFIXES = ('\n' + '-' * 60 + '\nSystem environment:', 'Config:\n',
                      'Hooks will be executed in the following order', 'Machine: ')
#: ... and mmengine's notices of its own deprecations (``FileClient``, ``HardDiskBackend``): not the
#: user's to act on.
DEPRECATION_NOTICE = 'will be deprecated in future'


class ConsoleFilter(logging.Filter):
    """Keeps the dumps of :data:`FILE_ONLY_PREFIXES` and mmengine's deprecation notices off the console."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = str(record.msg)
        return not (msg.startswith(FILE_ONLY_PREFIXES) or DEPRECATION_NOTICE in msg)


class PysklRunner(Runner):
    """``mmengine.runner.Runner`` whose checkpoint loading is safe and says what does not fit.

    - Files are read by the one reader, :func:`pyskl.models.checkpoint.read_checkpoint`:
      ``torch.load(weights_only=True)`` with its allow-list (works under torch >= 2.6; runs no
      pickled code).
    - Resuming, and :meth:`load_checkpoint` with ``strict=True`` (testing), refuse a
      checkpoint whose weights do not all fit the model, with a one-line
      :class:`~pyskl.models.CheckpointMismatchError` naming the missing, unexpected and
      misshaped keys.
    - ``load_from`` for a new run (fine-tuning) loads what fits and logs, in one line,
      what did not; it refuses a checkpoint of which nothing fits.
    - A training runner holds its work dir's lock (:mod:`pyskl.utils.work_dir_lock`) from
      its creation to the end of :meth:`train`: a second training there refuses to start.

    The console shows the config file, the work dir, the device and the number of
    processes, then progress and results; the environment, the full config and the hook
    table go to the log file in the work dir only (:class:`ConsoleFilter`).
    """

    def __init__(self, model, work_dir, train_dataloader=None, *args, **kwargs):
        # process 0 speaks for the job (the others share its work dir); before mmengine makes the log dir
        self._work_dir_locked = train_dataloader is not None and os.environ.get('RANK', '0') == '0'
        if self._work_dir_locked:
            lock_work_dir(work_dir)
        try:
            super().__init__(model, work_dir, train_dataloader, *args, **kwargs)
        except BaseException:
            self._unlock_work_dir(work_dir)
            raise

    def _unlock_work_dir(self, work_dir: str) -> None:
        if self._work_dir_locked:
            self._work_dir_locked = False
            unlock_work_dir(work_dir)

    def train(self):
        try:
            return super().train()
        finally:
            self._unlock_work_dir(self.work_dir)

    def build_logger(self, log_level='INFO', log_file=None, **kwargs):
        logger = super().build_logger(log_level=log_level, log_file=log_file, **kwargs)
        for handler in logger.handlers:
            if not isinstance(handler, logging.FileHandler) and \
                    not any(isinstance(f, ConsoleFilter) for f in handler.filters):
                handler.addFilter(ConsoleFilter())
        return logger

    def _log_env(self, env_cfg: dict) -> None:
        super()._log_env(env_cfg)  # to the log file
        self.logger.info(f'Machine: {describe_machine()}')
        device = get_device()
        if device == 'cuda':
            import torch
            device = f'cuda:{torch.cuda.current_device()} ({torch.cuda.get_device_name()})'
        self.logger.info(f'Config {self.cfg.filename or "(in memory)"}, work dir {self.work_dir}, device {device}, '
                         f'{self._world_size} process{"es" if self._world_size > 1 else ""}, seed {self._seed}; '
                         f'environment and full config in {self._log_dir}/{self.timestamp}.log')

    def load_checkpoint(self, filename: str, map_location='cpu', strict: bool = False,
                        revise_keys: list = [(r'^module\.', '')]) -> dict:  # noqa: B006 - mmengine's signature
        checkpoint = read_checkpoint(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        # (``revise_keys`` is not needed: the weights loader strips a 'module.' prefix of DDP checkpoints)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        strict = strict or self._resume  # resuming continues the same model: every weight must fit
        report = load_weights(model, state_dict_of(checkpoint, filename), filename, strict=strict)
        if not strict:
            num_weights = len(model.state_dict())
            if len(report['missing']) + len(report['misshaped']) >= num_weights:
                raise CheckpointMismatchError(
                    f'no weight of {filename} fits this model (e.g. {(report["unexpected"] or ["?"])[0]} is not one '
                    'of its weights): is it a checkpoint of this architecture?')
            skipped = {what: len(report[what]) for what in ('missing', 'unexpected', 'misshaped') if report[what]}
            if skipped:
                self.logger.warning(
                    f'{filename}: loaded what fits; not loaded: '
                    + ', '.join(f'{n} {what} ({", ".join(report[what][:2])}...)' for what, n in skipped.items()))
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    @staticmethod
    def build_dataloader(dataloader, seed=None, diff_rank_seed=False):
        """mmengine's DataLoader, whose worker processes die with this process (see
        :func:`pyskl.runner.launch.die_with_parent`): a killed rank leaves no worker behind."""
        loader = Runner.build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)
        if getattr(loader, 'num_workers', 0) > 0:
            loader.worker_init_fn = dies_with_parent(loader.worker_init_fn)
        return loader

    def build_train_loop(self, loop):
        """mmengine's train loop, refusing an empty training set in one line (mmengine asserts later)."""
        loop = super().build_train_loop(loop)
        loader = getattr(loop, 'dataloader', None)
        if loader is not None and len(loader) == 0:
            dataset, size = loader.dataset, len(loader.dataset)
            while not hasattr(dataset, 'ann_file') and hasattr(dataset, 'dataset'):  # through RepeatDataset etc.
                dataset = dataset.dataset
            what = getattr(dataset, 'ann_file', None) or type(dataset).__name__
            split = getattr(dataset, 'split', None)
            what += f' (split {split!r})' if split else ''
            if size == 0:
                raise ValueError(f'the training set is empty: {what} has no sample to train on (warnings above '
                                 'list any sample left out); check the split name and the annotation file')
            raise ValueError(f'the training set {what} has {size} sample(s), fewer than one batch '
                             f'({loader.batch_size}) with drop_last: lower videos_per_gpu or add samples')
        return loop

    def dump_config(self) -> None:
        """A training run dumps its config into the work dir; a test run (no train loop) beside its
        log in ``work_dir/<time>/``, so that the work dir keeps the config the model was trained with."""
        if self._train_loop is not None:
            super().dump_config()
            return
        name = osp.basename(self.cfg.filename) if self.cfg.filename else f'{self.timestamp}.py'
        self.cfg.dump(osp.join(self._log_dir, name))

    def set_randomness(self, seed, diff_rank_seed: bool = False, deterministic: bool = False) -> None:
        """mmengine's (torch, numpy, random, the samplers and the DataLoader workers), and
        the transforms' own generators (:func:`~pyskl.datasets.transforms.base.set_run_seed`)."""
        super().set_randomness(seed, diff_rank_seed=diff_rank_seed, deterministic=deterministic)
        set_run_seed(self._seed)

    def load_or_resume(self) -> None:
        """mmengine's, and one line when the run it resumes has already trained all its epochs."""
        super().load_or_resume()
        loop = self._train_loop
        if self._resume and loop is not None and not isinstance(loop, dict) and loop.iter > 0 \
                and getattr(loop, 'epoch', 0) >= getattr(loop, 'max_epochs', float('inf')):
            self.logger.info(f'Training already finished: {self.work_dir} holds epoch {loop.epoch} of '
                             f'{loop.max_epochs}; nothing to train (--cfg-options auto_resume=False starts afresh)')

    def test_after_training(self, last: bool = False, best: bool = False) -> None:
        """``--test-last``/``--test-best``: as the original, the in-memory last model, then the best
        checkpoint, each with the config's test evaluator (:func:`~pyskl.runner.run_config.test_evaluator`,
        the one ``tools/test.py`` uses), its scores in ``WORK_DIR/{last,best}_pred.pkl`` and a
        confusion matrix."""
        for tag, wanted in (('last', last), ('best', best)):
            if not wanted:
                continue
            if tag == 'best':
                found = self.message_hub.get_info('best_ckpt')
                if not found or not osp.isfile(found):
                    self.logger.warning('--test-best: no best checkpoint was saved; skipped')
                    continue
                self.load_checkpoint(found, strict=True)
            evaluator = test_evaluator(self.cfg, out=osp.join(self.work_dir, f'{tag}_pred.pkl'),
                                       confusion_prefix=f'confusion_matrix_{tag}')
            self.run_test_loop(evaluator, title=f'Testing the {tag} checkpoint')

    def run_test_loop(self, evaluator: list | dict, title: str = '') -> dict:
        """Run the test loop (e.g. after training) with ``evaluator`` in place of the configured one."""
        loop = self.test_loop
        loop.evaluator = self.build_evaluator(evaluator)
        metainfo = getattr(loop.dataloader.dataset, 'metainfo', None)
        if metainfo is not None:
            loop.evaluator.dataset_meta = metainfo
        if title:
            self.logger.info(title)
        return loop.run()
