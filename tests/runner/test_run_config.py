"""The Runner config of training and test runs (pyskl.runner.run_config)."""
import copy
from types import SimpleNamespace
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from pyskl.runner import PysklRunner, load_config, prepare_test_config, prepare_train_config
from pyskl.runner.run_config import default_work_dir, dist_options

REPO = Path(__file__).resolve().parents[2]
NTU60_J = REPO / 'configs' / 'dgstgcn' / 'ntu60_xsub_3dkp' / 'j.py'


@pytest.fixture
def cfg(tmp_path):
    """The NTU-60 joint config with its annotation file pointed at an (empty) file that exists."""
    ann = tmp_path / 'anno.pkl'
    ann.write_bytes(b'')
    cfg = Config.fromfile(str(NTU60_J))
    cfg.merge_from_dict({'data.train.dataset.ann_file': str(ann), 'data.val.ann_file': str(ann),
                         'data.test.ann_file': str(ann)})
    return cfg


def test_training_without_validation(cfg, tmp_path):
    out = prepare_train_config(cfg, work_dir=str(tmp_path / 'work'))
    assert out.work_dir == str(tmp_path / 'work')
    assert out.launcher == 'none' and out.default_scope == 'pyskl'
    assert not {'val_dataloader', 'val_cfg', 'val_evaluator'} & set(out.keys())
    assert out.default_hooks.checkpoint == dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3)
    assert out.custom_hooks == [dict(type='TrainingCurvesHook'), dict(type='RandomStateHook')]
    assert out.randomness == dict(seed=None)
    assert out.resume is False and out.get('load_from') is None
    assert 'model_wrapper_cfg' not in out


def test_training_with_validation_saves_the_best(cfg, tmp_path):
    out = prepare_train_config(cfg, work_dir=str(tmp_path), validate=True, test=True, seed=3, deterministic=True)
    assert out.val_dataloader.dataset.test_mode is True
    assert out.val_evaluator == dict(type='AccMetric', metric_list=['top_k_accuracy'])
    assert out.default_hooks.checkpoint == dict(type='AtomicCheckpointHook', interval=1, save_best='auto',
                                                max_keep_ckpts=3)
    assert out.train_cfg == dict(by_epoch=True, max_epochs=16, val_interval=1)
    assert out.randomness == dict(seed=3, deterministic=True)


def test_an_mmengine_checkpoint_hook_is_made_atomic(cfg, tmp_path):
    cfg.default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=2, max_keep_ckpts=3))
    out = prepare_train_config(cfg, work_dir=str(tmp_path))
    assert out.default_hooks.checkpoint == dict(type='AtomicCheckpointHook', interval=2, max_keep_ckpts=3)


def test_missing_pieces_are_named(cfg, tmp_path):
    no_val = copy.deepcopy(cfg)
    no_val.data.pop('val')
    with pytest.raises(KeyError, match='--validate needs a validation set: .*j.py has no data.val'):
        prepare_train_config(no_val, work_dir=str(tmp_path), validate=True)
    no_test = copy.deepcopy(cfg)
    no_test.data.pop('test')
    with pytest.raises(KeyError, match='--test-last/--test-best need a test set'):
        prepare_train_config(no_test, work_dir=str(tmp_path), test=True)
    no_epochs = copy.deepcopy(cfg)
    no_epochs.pop('total_epochs')
    no_epochs.pop('lr_config')
    with pytest.raises(KeyError, match=r'has no train_cfg \(original form: total_epochs\)'):
        prepare_train_config(no_epochs, work_dir=str(tmp_path))


def test_a_missing_annotation_file_names_the_config_entry(cfg, tmp_path):
    cfg.merge_from_dict({'data.train.dataset.ann_file': str(tmp_path / 'nope.pkl')})
    with pytest.raises(FileNotFoundError) as info:
        prepare_train_config(cfg, work_dir=str(tmp_path))
    assert str(info.value) == (
        f'{tmp_path / "nope.pkl"} does not exist (data.train.dataset.ann_file in {NTU60_J}); prepare the data as '
        'the README says, or point it at your file: --cfg-options data.train.dataset.ann_file=PATH')
    # the validation set is checked only when it is used
    cfg.merge_from_dict({'data.train.dataset.ann_file': cfg.data.test.ann_file, 'data.val.ann_file': 'gone.pkl'})
    prepare_train_config(cfg, work_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r'gone.pkl does not exist \(data.val.ann_file'):
        prepare_train_config(cfg, work_dir=str(tmp_path), validate=True)


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU choice')
def test_amp_on_cpu_is_bfloat16(cfg, tmp_path):
    out = prepare_train_config(copy.deepcopy(cfg), work_dir=str(tmp_path), amp=True, validate=True, test=True)
    assert out.optim_wrapper['type'] == 'FiniteCPUAmpOptimWrapper'  # CPUAmpOptimWrapper with the finite checks
    assert out.val_cfg['fp16'] and out.test_cfg['fp16']  # validation and the final test autocast too
    assert prepare_train_config(copy.deepcopy(cfg), work_dir=str(tmp_path), amp='bfloat16').optim_wrapper[
        'type'] == 'FiniteCPUAmpOptimWrapper'
    with pytest.raises(ValueError, match='float16 needs a CUDA GPU'):
        prepare_train_config(copy.deepcopy(cfg), work_dir=str(tmp_path), amp='float16')
    with pytest.raises(ValueError, match='choose float16 or bfloat16'):
        prepare_train_config(copy.deepcopy(cfg), work_dir=str(tmp_path), amp='int8')


def test_cpu_amp_optim_wrapper_autocasts_to_bfloat16():
    from pyskl.engine import CPUAmpOptimWrapper
    layer = torch.nn.Linear(4, 2)
    wrapper = CPUAmpOptimWrapper(optimizer=torch.optim.SGD(layer.parameters(), lr=0.1))
    with wrapper.optim_context(layer):
        assert layer(torch.randn(3, 4)).dtype == torch.bfloat16
    assert layer(torch.randn(3, 4)).dtype == torch.float32


def test_linear_scaling_from_the_original_batch(cfg, tmp_path):
    assert 'auto_scale_lr' not in prepare_train_config(cfg, work_dir=str(tmp_path))  # the config's lr as it is
    out = prepare_train_config(cfg, work_dir=str(tmp_path), auto_scale_lr=True)
    assert out.auto_scale_lr == dict(enable=True, base_batch_size=16 * 8)  # videos_per_gpu x 8 GPUs
    cfg.auto_scale_lr = dict(base_batch_size=64)
    assert prepare_train_config(cfg, work_dir=str(tmp_path), auto_scale_lr=True).auto_scale_lr == dict(
        enable=True, base_batch_size=64)


def test_resume_choices(cfg, tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    torch.save(dict(meta=dict(epoch=2)), work / 'epoch_2.pth')
    (work / 'last_checkpoint').write_text(str(work / 'epoch_2.pth'))
    out = prepare_train_config(cfg, work_dir=str(work))  # by default: the work dir's last checkpoint
    assert out.resume is True and out.load_from == str(work / 'epoch_2.pth')
    out = prepare_train_config(cfg, work_dir=str(work), resume='other/epoch_5.pth')
    assert out.resume is True and out.load_from == 'other/epoch_5.pth'
    off = copy.deepcopy(cfg)
    off.auto_resume = False
    out = prepare_train_config(off, work_dir=str(work))
    assert out.resume is False and out.get('load_from') is None
    assert prepare_train_config(off, work_dir=str(work), resume='auto').load_from == str(work / 'epoch_2.pth')
    original = copy.deepcopy(cfg)
    original.resume_from = 'given/epoch_1.pth'  # the original's resume_from wins over the work dir's
    out = prepare_train_config(original, work_dir=str(work))
    assert out.resume is True and out.load_from == 'given/epoch_1.pth'
    pretrained = copy.deepcopy(cfg)
    pretrained.load_from = 'pretrained.pth'
    out = prepare_train_config(pretrained, work_dir=str(tmp_path / 'fresh'))
    assert out.resume is False and out.load_from == 'pretrained.pth'


def test_cpu_processes_get_ddp_without_devices(cfg, tmp_path):
    cfg.dist_params = dict(backend='nccl')
    cfg.find_unused_parameters = True
    assert dist_options(load_config(cfg)) == dict(backend='nccl')
    dist = dict(launcher='pytorch', model_wrapper_cfg=dict(type='MMDistributedDataParallel', device_ids=None))
    out = prepare_train_config(cfg, dist, work_dir=str(tmp_path))
    assert out.launcher == 'pytorch'
    assert out.model_wrapper_cfg == dict(type='MMDistributedDataParallel', device_ids=None,
                                         find_unused_parameters=True)
    assert 'dist_cfg' not in (out.get('env_cfg') or {})  # the gloo group is up already
    assert out.custom_hooks == [dict(type='TrainingCurvesHook'), dict(type='RandomStateHook'),
                                dict(type='SyncBuffersHook')]


def test_gpu_processes_use_mmengine_with_nccl(cfg, tmp_path):
    out = prepare_train_config(cfg, dict(launcher='pytorch', dist_cfg=dict(backend='nccl', timeout=60)),
                               work_dir=str(tmp_path))
    assert out.env_cfg.dist_cfg == dict(backend='nccl', timeout=60)
    assert 'model_wrapper_cfg' not in out


def test_default_work_dir():
    assert default_work_dir(Config(dict(a=1), filename=str(NTU60_J))) == './work_dirs/j'
    cfg = Config.fromfile(str(NTU60_J))
    cfg.pop('work_dir')
    assert default_work_dir(cfg) == './work_dirs/j'


def test_test_run(cfg, tmp_path):
    out = prepare_test_config(cfg, work_dir=str(tmp_path), metrics=['top_k_accuracy', 'mean_class_accuracy'],
                              out=str(tmp_path / 'result.pkl'), average_clips='none')
    assert out.test_evaluator == [
        dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy']),
        dict(type='ConfusionMatrix', out_dir=str(tmp_path), file_prefix='confusion_matrix'),
        dict(type='DumpScores', out_file_path=str(tmp_path / 'result.pkl'))]
    assert out.model.test_cfg == dict(average_clips=None)
    assert out.test_dataloader.batch_size == 1 and out.test_dataloader.dataset.test_mode is True
    assert not {'train_dataloader', 'optim_wrapper', 'param_scheduler', 'val_dataloader'} & set(out.keys())
    assert out.resume is False and out.load_from is None

    only_scores = prepare_test_config(cfg, work_dir=str(tmp_path), metrics=[], out=str(tmp_path / 'r.pkl'))
    assert only_scores.test_evaluator == [dict(type='DumpScores', out_file_path=str(tmp_path / 'r.pkl'))]
    assert 'test_cfg' not in only_scores.model  # the model's default (prob)
    configs_own = prepare_test_config(cfg, work_dir=str(tmp_path))  # no --eval: the config's test_evaluator
    assert configs_own.test_evaluator == [
        dict(type='AccMetric', metric_list=['top_k_accuracy']),
        dict(type='ConfusionMatrix', out_dir=str(tmp_path), file_prefix='confusion_matrix')]
    with pytest.raises(ValueError, match='nothing to do'):
        prepare_test_config(cfg, work_dir=str(tmp_path), metrics=[])
    assert 'fp16' not in only_scores.test_cfg
    assert prepare_test_config(cfg, work_dir=str(tmp_path), out=str(tmp_path / 'r.pkl'), amp=True).test_cfg['fp16']


def test_test_py_and_test_last_build_the_same_evaluator(cfg, tmp_path):
    cfg.evaluation = dict(interval=1, metrics=['top_k_accuracy', 'mean_class_accuracy'],
                          metric_options=dict(top_k_accuracy=dict(topk=(1, 2))))
    out = str(tmp_path / 'last_pred.pkl')
    # tools/test.py CONFIG CKPT --out work_dir/last_pred.pkl
    tested = prepare_test_config(cfg, work_dir=str(tmp_path), out=out).test_evaluator
    # tools/train.py CONFIG --test-last: the evaluator PysklRunner.test_after_training runs
    used = []
    runner = SimpleNamespace(cfg=prepare_train_config(cfg, work_dir=str(tmp_path), test=True),
                             work_dir=str(tmp_path), run_test_loop=lambda evaluator, title: used.append(evaluator))
    PysklRunner.test_after_training(runner, last=True)
    assert tested[0] == dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'],
                             metric_options=dict(top_k_accuracy=dict(topk=(1, 2))))
    assert used == [[dict(e, file_prefix='confusion_matrix_last') if e['type'] == 'ConfusionMatrix' else e
                     for e in tested]]


def test_test_run_keeps_the_configs_metric_options(cfg, tmp_path):
    cfg.evaluation = dict(interval=1, metrics=['top_k_accuracy'], metric_options=dict(top_k_accuracy=dict(topk=(1, 2))))
    out = prepare_test_config(cfg, work_dir=str(tmp_path), metrics=['top_k_accuracy'])
    assert out.test_evaluator[0] == dict(type='AccMetric', metric_list=['top_k_accuracy'],
                                         metric_options=dict(top_k_accuracy=dict(topk=(1, 2))))
