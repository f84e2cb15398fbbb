"""A hook that draws the training curves into the work dir.

It records, after every training iteration, the loss and learning rate that
mmengine's ``RuntimeInfoHook`` put into the message hub (``train/loss``,
``train/lr``), and after every validation the top-1 accuracy
(``top1_acc``, see ``pyskl.evaluation.metrics``). After each validation and
after training it writes ``training_curves.png`` (three panels over epochs:
loss, learning rate, validation top-1) and ``training_curves.csv`` (one row per
epoch) into ``runner.work_dir``, on the main process only.

The history is stored in each checkpoint (plain lists under
``checkpoint['training_curves']``) and in ``training_curves.json`` beside the
PNG, so a resumed run draws the whole run (the JSON also holds the validation
that ran after the checkpoint was saved). On a resume, both are merged and cut
at the iteration training restarts from; a checkpoint loaded with
``load_from`` to start a new run (iteration 0) contributes nothing.
"""
import csv
import io
import json
from pathlib import Path
from typing import Optional

import numpy as np
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

from pyskl.evaluation.metrics import TOP1_KEY
from pyskl.evaluation.plots import plot_training_curves
from pyskl.registry import HOOKS
from pyskl.utils.fileio import atomic_write

CHECKPOINT_KEY = 'training_curves'


@HOOKS.register_module()
class TrainingCurvesHook(Hook):
    """Write ``training_curves.png``/``.csv`` into the work dir after each validation and after training.

    Args:
        out_file: PNG file name, relative to the work dir (or absolute).
        metric: the validation metric to plot (default ``top1_acc``).
        loss_key: the message-hub scalar holding the training loss.
        plot_after_val: also redraw after each validation (about 0.3 s each).
    """

    priority = 'LOW'  # after RuntimeInfoHook (VERY_HIGH) has filled the message hub

    def __init__(self, out_file: str = 'training_curves.png', metric: str = TOP1_KEY, loss_key: str = 'train/loss',
                 plot_after_val: bool = True) -> None:
        if not out_file.endswith('.png'):
            raise ValueError(f'TrainingCurvesHook: out_file must end with .png, got {out_file!r}')
        self.out_file = out_file
        self.metric = metric
        self.loss_key = loss_key
        self.plot_after_val = plot_after_val
        self.iters: list[int] = []  # 1-based index of the finished iteration
        self.losses: list[float] = []
        self.lrs: list[float] = []
        self.val_iters: list[int] = []  # iterations finished when the validation ran
        self.val_values: list[float] = []
        self.iters_per_epoch: Optional[int] = None

    # --- recording ---------------------------------------------------------------------------
    def before_train(self, runner) -> None:
        self.iters_per_epoch = len(runner.train_dataloader)
        # Keep only what happened up to the iteration we start from: all of it when
        # resuming, none of it when a checkpoint was loaded to start a new run.
        start = runner.iter
        states = [self.state_dict()]
        if start > 0:
            side_file = self._path(runner).with_suffix('.json')
            try:
                states.append(json.loads(side_file.read_text(encoding='utf-8')))
            except (OSError, ValueError):
                pass  # no (readable) history beside the checkpoints: the checkpoint's is enough
        train, val = {}, {}
        for state in states:
            for it, loss, lr in zip(state.get('iters', []), state.get('losses', []), state.get('lrs', [])):
                if int(it) <= start:
                    train[int(it)] = (float(loss), float(lr))
            for it, value in zip(state.get('val_iters', []), state.get('val_values', [])):
                if int(it) <= start:
                    val[int(it)] = float(value)
        self.iters = sorted(train)
        self.losses = [train[it][0] for it in self.iters]
        self.lrs = [train[it][1] for it in self.iters]
        self.val_iters = sorted(val)
        self.val_values = [val[it] for it in self.val_iters]

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        hub = runner.message_hub
        loss = hub.get_scalar(self.loss_key) if self.loss_key in hub.log_scalars else None
        lr = hub.get_scalar('train/lr') if 'train/lr' in hub.log_scalars else None
        if loss is None:
            return
        self.iters.append(runner.iter + 1)  # runner.iter counts finished iterations, this one not yet
        self.losses.append(float(loss.current()))
        self.lrs.append(float(lr.current()) if lr is not None else float('nan'))

    def after_val_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        if isinstance(runner._train_loop, dict) or runner._train_loop is None:
            return  # a standalone validation, not part of training
        if not metrics or self.metric not in metrics:
            return
        self.val_iters.append(runner.iter)
        self.val_values.append(float(metrics[self.metric]))
        if self.plot_after_val:
            self.write(runner)

    def after_train(self, runner) -> None:
        self.write(runner)

    # --- checkpoints -------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return dict(iters=list(self.iters), losses=list(self.losses), lrs=list(self.lrs),
                    val_iters=list(self.val_iters), val_values=list(self.val_values))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[CHECKPOINT_KEY] = self.state_dict()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(CHECKPOINT_KEY)
        if not isinstance(state, dict):
            return
        self.iters = [int(i) for i in state.get('iters', [])]
        self.losses = [float(v) for v in state.get('losses', [])]
        self.lrs = [float(v) for v in state.get('lrs', [])]
        self.val_iters = [int(i) for i in state.get('val_iters', [])]
        self.val_values = [float(v) for v in state.get('val_values', [])]

    # --- output ------------------------------------------------------------------------------
    def _path(self, runner) -> Path:
        path = Path(self.out_file)
        return path if path.is_absolute() else Path(runner.work_dir) / path

    def write(self, runner) -> Optional[Path]:
        """Draw the PNG, the per-epoch CSV and the JSON history (main process only)."""
        if not is_main_process() or not self.iters_per_epoch:
            return None
        per_epoch = float(self.iters_per_epoch)
        path = self._path(runner)
        steps = np.asarray(self.iters, dtype=np.float64) / per_epoch
        val_epochs = [it / per_epoch for it in self.val_iters]
        plot_training_curves(path, steps, self.losses, self.lrs, val_epochs, self.val_values, val_name=self.metric,
                             title=Path(runner.work_dir).name)
        self._write_csv(path.with_suffix('.csv'), steps, val_epochs)
        atomic_write(json.dumps(self.state_dict()), path.with_suffix('.json'))
        print_log(f'Training curves written to {path}', logger='current')
        return path

    def _write_csv(self, path: Path, steps: np.ndarray, val_epochs: list) -> None:
        epoch_of = np.ceil(steps - 1e-9).astype(int)
        val = {int(round(e)): v for e, v in zip(val_epochs, self.val_values)}
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator='\n')
        writer.writerow(['epoch', 'mean_loss', 'last_lr', f'val_{self.metric}'])
        losses = np.asarray(self.losses)
        lrs = np.asarray(self.lrs)
        for epoch in np.unique(epoch_of):
            mask = epoch_of == epoch
            writer.writerow([int(epoch), f'{losses[mask].mean():.6g}', f'{lrs[mask][-1]:.6g}',
                             '' if int(epoch) not in val else f'{val[int(epoch)]:.6g}'])
        atomic_write(buf.getvalue(), path)
