"""The translation of the original config format into mmengine Runner settings (pyskl.runner.legacy_config)."""
import copy
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import PARAM_SCHEDULERS

from pyskl.runner.legacy_config import LEGACY_KEYS, lr_config_to_schedulers, translate_legacy_config

MODEL = dict(
    type='RecognizerGCN',
    backbone=dict(type='DGSTGCN', gcn_ratio=0.125, gcn_ctr='T', gcn_ada='T',
                  tcn_ms_cfg=[(3, 1), (3, 2), (3, 3), (3, 4), ('max', 3), '1x1'],
                  graph_cfg=dict(layout='nturgb+d', mode='random', num_filter=8, init_off=.04, init_std=.02)),
    cls_head=dict(type='GCNHead', num_classes=60, in_channels=256))
ANN = 'data/nturgbd/ntu60_3danno.pkl'
TRAIN_PIPELINE = [dict(type='PreNormalize3D', align_spine=False), dict(type='RandomRot', theta=0.2),
                  dict(type='GenSkeFeat', feats=['j']), dict(type='UniformSampleDecode', clip_len=100),
                  dict(type='FormatGCNInput'), dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
                  dict(type='ToTensor', keys=['keypoint'])]
VAL_PIPELINE = [dict(type='PreNormalize3D', align_spine=False), dict(type='GenSkeFeat', feats=['j']),
                dict(type='UniformSampleDecode', clip_len=100, num_clips=1), dict(type='FormatGCNInput'),
                dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
                dict(type='ToTensor', keys=['keypoint'])]
TEST_PIPELINE = copy.deepcopy(VAL_PIPELINE)
TEST_PIPELINE[2]['num_clips'] = 10

# The seed's configs/dgstgcn/ntu60_xsub_3dkp/j.py (the original PYSKL format), as in the common brief.
ORIGINAL = dict(
    model=MODEL, dataset_type='PoseDataset', ann_file=ANN, train_pipeline=TRAIN_PIPELINE,
    val_pipeline=VAL_PIPELINE, test_pipeline=TEST_PIPELINE,
    data=dict(
        videos_per_gpu=16, workers_per_gpu=2, test_dataloader=dict(videos_per_gpu=1),
        train=dict(type='RepeatDataset', times=5,
                   dataset=dict(type='PoseDataset', ann_file=ANN, pipeline=TRAIN_PIPELINE, split='xsub_train')),
        val=dict(type='PoseDataset', ann_file=ANN, pipeline=VAL_PIPELINE, split='xsub_val'),
        test=dict(type='PoseDataset', ann_file=ANN, pipeline=TEST_PIPELINE, split='xsub_val')),
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0005, nesterov=True),
    optimizer_config=dict(grad_clip=None),
    lr_config=dict(policy='CosineAnnealing', min_lr=0, by_epoch=False),
    total_epochs=16,
    checkpoint_config=dict(interval=1),
    evaluation=dict(interval=1, metrics=['top_k_accuracy']),
    log_config=dict(interval=100, hooks=[dict(type='TextLoggerHook')]),
    log_level='INFO',
    work_dir='./work_dirs/dgstgcn/ntu60_xsub_3dkp/j')


def translate(**changes) -> dict:
    cfg = copy.deepcopy(ORIGINAL)
    for key, value in changes.items():
        if value is None:
            cfg.pop(key, None)
        else:
            cfg[key] = value
    return translate_legacy_config(Config(cfg)).to_dict()


def test_every_key_of_the_original_config():
    out = translate()
    assert not set(LEGACY_KEYS) & set(out)

    train = out['train_dataloader']
    assert train == dict(
        batch_size=16, num_workers=2, persistent_workers=True,
        sampler=dict(type='DefaultSampler', shuffle=True), collate_fn=dict(type='default_collate'),
        dataset=ORIGINAL['data']['train'])  # a training set is not in test mode
    val = out['val_dataloader']
    assert val == dict(
        batch_size=16, num_workers=2, persistent_workers=True,
        sampler=dict(type='DefaultSampler', shuffle=False), collate_fn=dict(type='default_collate'),
        dataset=dict(ORIGINAL['data']['val'], test_mode=True))
    test = out['test_dataloader']
    assert test == dict(
        batch_size=1, num_workers=2, persistent_workers=True,  # data.test_dataloader.videos_per_gpu
        sampler=dict(type='DefaultSampler', shuffle=False), collate_fn=dict(type='default_collate'),
        dataset=dict(ORIGINAL['data']['test'], test_mode=True))

    assert out['optim_wrapper'] == dict(type='OptimWrapper', optimizer=ORIGINAL['optimizer'])  # grad_clip=None
    assert out['param_scheduler'] == [dict(type='CosineAnnealingLR', T_max=16, begin=0, end=16, eta_min=0,
                                           by_epoch=True, convert_to_iter_based=True)]
    assert out['train_cfg'] == dict(by_epoch=True, max_epochs=16, val_interval=1)
    assert out['val_cfg'] == dict(type='ValLoop')
    assert out['test_cfg'] == dict(type='TestLoop')
    assert out['val_evaluator'] == dict(type='AccMetric', metric_list=['top_k_accuracy'])
    assert out['test_evaluator'] == dict(type='AccMetric', metric_list=['top_k_accuracy'])
    assert out['default_hooks'] == dict(
        checkpoint=dict(type='CheckpointHook', interval=1, save_best='auto'),
        logger=dict(type='LoggerHook', interval=100))
    assert 'visualizer' not in out  # TextLoggerHook: mmengine's LoggerHook writes the text log
    assert out['default_scope'] == 'pyskl'
    assert out['log_level'] == 'INFO'
    assert out['work_dir'] == ORIGINAL['work_dir']
    assert out['model'] == MODEL
    assert 'resume' not in out and 'load_from' not in out and 'env_cfg' not in out


def test_the_shipped_config_translates_like_the_brief():
    cfg = translate_legacy_config(Config.fromfile('configs/dgstgcn/ntu60_xsub_3dkp/j.py'))
    assert cfg.filename.endswith('j.py')
    expected = translate()
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader', 'optim_wrapper', 'param_scheduler',
                'train_cfg', 'default_hooks', 'val_evaluator', 'test_evaluator', 'model'):
        assert cfg.to_dict()[key] == expected[key], key


def test_mmengine_keys_win_over_translated_ones():
    native_loader = dict(batch_size=3, num_workers=0, dataset=dict(type='PoseDataset', ann_file='x.pkl'),
                         sampler=dict(type='DefaultSampler', shuffle=False))
    out = translate(train_dataloader=native_loader,
                    param_scheduler=[dict(type='ConstantLR', factor=1.0)],
                    train_cfg=dict(by_epoch=True, max_epochs=3),
                    default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2)),
                    optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-3)),
                    env_cfg=dict(dist_cfg=dict(backend='gloo')), dist_params=dict(backend='nccl'))
    assert out['train_dataloader'] == native_loader
    assert out['val_dataloader']['batch_size'] == 16  # the rest still comes from data
    assert out['param_scheduler'] == [dict(type='ConstantLR', factor=1.0)]
    # total_epochs fills in what train_cfg does not say; train_cfg's own entries win
    assert out['train_cfg'] == dict(by_epoch=True, max_epochs=3, val_interval=1)
    assert out['default_hooks']['checkpoint'] == dict(type='CheckpointHook', interval=2)
    assert out['default_hooks']['logger'] == dict(type='LoggerHook', interval=100)
    assert out['optim_wrapper'] == dict(optimizer=dict(type='Adam', lr=1e-3))
    assert out['env_cfg'] == dict(dist_cfg=dict(backend='gloo'))


def test_a_config_in_mmengine_form_passes_through():
    native = dict(model=MODEL, train_dataloader=dict(batch_size=2), train_cfg=dict(by_epoch=True, max_epochs=1),
                  optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)), default_scope='mmengine')
    out = translate_legacy_config(Config(native)).to_dict()
    assert out == native


def test_loader_settings_and_workers():
    out = translate(data=dict(
        videos_per_gpu=8, workers_per_gpu=0,
        train_dataloader=dict(drop_last=True, pin_memory=True),
        val_dataloader=dict(videos_per_gpu=2, workers_per_gpu=3, shuffle=True),
        train=ORIGINAL['data']['train'], val=ORIGINAL['data']['val']))
    assert out['train_dataloader']['num_workers'] == 0
    assert out['train_dataloader']['persistent_workers'] is False  # torch refuses persistent workers without workers
    assert out['train_dataloader']['drop_last'] is True and out['train_dataloader']['pin_memory'] is True
    assert out['val_dataloader']['batch_size'] == 2 and out['val_dataloader']['num_workers'] == 3
    assert out['val_dataloader']['persistent_workers'] is True
    assert out['val_dataloader']['sampler'] == dict(type='DefaultSampler', shuffle=True)
    assert 'test_dataloader' not in out and 'test_evaluator' not in out and 'test_cfg' not in out


def test_wrapped_val_dataset_gets_test_mode_inside():
    out = translate(data=dict(videos_per_gpu=1, val=dict(type='RepeatDataset', times=2,
                                                         dataset=dict(type='PoseDataset', ann_file=ANN))))
    assert out['val_dataloader']['dataset'] == dict(type='RepeatDataset', times=2,
                                                    dataset=dict(type='PoseDataset', ann_file=ANN, test_mode=True))


def test_optimizer_options():
    out = translate(optimizer=dict(type='SGD', lr=0.1, paramwise_cfg=dict(norm_decay_mult=0.)),
                    optimizer_config=dict(grad_clip=dict(max_norm=40, norm_type=2)), fp16=dict(loss_scale=512.))
    assert out['optim_wrapper'] == dict(type='AmpOptimWrapper', optimizer=dict(type='SGD', lr=0.1),
                                        paramwise_cfg=dict(norm_decay_mult=0.),
                                        clip_grad=dict(max_norm=40, norm_type=2), loss_scale=512.)


def test_runtime_keys():
    out = translate(dist_params=dict(backend='nccl', port=29501), resume_from='work/epoch_3.pth',
                    load_from='pretrained.pth', workflow=[('train', 1)], cudnn_benchmark=True,
                    mp_start_method='spawn', auto_resume=False)
    assert out['env_cfg'] == dict(dist_cfg=dict(backend='nccl', port=29501), cudnn_benchmark=True,
                                  mp_cfg=dict(mp_start_method='spawn'))
    assert out['resume'] is True and out['load_from'] == 'work/epoch_3.pth'  # resume_from wins, as the original
    assert out['auto_resume'] is False  # read by tools/train.py
    assert 'workflow' not in out
    out = translate(load_from='pretrained.pth')
    assert out['load_from'] == 'pretrained.pth' and 'resume' not in out


def test_evaluation_and_checkpoint_options():
    out = translate(evaluation=dict(interval=5, start=2, metrics=['top_k_accuracy', 'mean_class_accuracy'],
                                    metric_options=dict(top_k_accuracy=dict(topk=(1, 3))), save_best='top1_acc',
                                    rule='greater'),
                    checkpoint_config=dict(interval=2, max_keep_ckpts=3, create_symlink=False, save_optimizer=True))
    evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'],
                     metric_options=dict(top_k_accuracy=dict(topk=(1, 3))))
    assert out['val_evaluator'] == evaluator and out['test_evaluator'] == evaluator
    assert out['train_cfg'] == dict(by_epoch=True, max_epochs=16, val_interval=5, val_begin=2)
    assert out['default_hooks']['checkpoint'] == dict(type='CheckpointHook', interval=2, max_keep_ckpts=3,
                                                      save_optimizer=True, save_best='top1_acc', rule='greater')


def test_logger_hooks_become_visualizer_backends():
    out = translate(log_config=dict(interval=10, hooks=[dict(type='TextLoggerHook'),
                                                         dict(type='TensorboardLoggerHook')]))
    assert out['default_hooks']['logger'] == dict(type='LoggerHook', interval=10)
    assert out['visualizer'] == dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend'),
                                                                       dict(type='TensorboardVisBackend')])


@pytest.mark.parametrize('changes, message', [
    (dict(lr_config=dict(policy='CosineRestart', periods=[1])), "policy='CosineRestart' is not supported"),
    (dict(lr_config=dict(policy='CosineAnnealing')), 'exactly one of min_lr and min_lr_ratio'),
    (dict(lr_config=dict(policy='step', step=[3], min_lr=1e-4)), "unknown key(s) ['min_lr']"),
    (dict(lr_config=dict(policy='step', step=[3], warmup='exp', warmup_iters=5)), "warmup='exp' is not supported"),
    (dict(lr_config=dict(policy='step', step=[3], warmup='linear')), 'warmup_iters must be > 0'),
    (dict(lr_config=dict(min_lr=0)), "lr_config needs a 'policy'"),
    (dict(total_epochs=None), 'lr_config needs total_epochs'),
    (dict(checkpoint_config=dict(intreval=1)), "checkpoint_config: unknown key(s) ['intreval']"),
    (dict(evaluation=dict(interval=1, metric=['top_k_accuracy'])), "evaluation: unknown key(s) ['metric']"),
    (dict(data=dict(video_per_gpu=2)), "data: unknown key(s) ['video_per_gpu']"),
    (dict(data=dict(train=dict(type='PoseDataset'), train_dataloader=dict(batch_size=2))),
     "data.train_dataloader: unknown key(s) ['batch_size']"),
    (dict(log_config=dict(interval=1, hooks=[dict(type='PaviLoggerHook')])), "'PaviLoggerHook' is not supported"),
    (dict(optimizer=None), 'optimizer_config/fp16 without optimizer'),
])
def test_mistakes_are_named(changes, message):
    with pytest.raises((KeyError, ValueError)) as info:
        translate(**changes)
    text = info.value.args[0]
    assert message in text


# --- the learning rate at every iteration, against the original's (mmcv 1.x) formulas -------------------

def _mmengine_lrs(schedulers: list[dict], base_lr: float, epochs: int, iters_per_epoch: int) -> list[float]:
    """The learning rate of each training iteration, stepping the schedulers as mmengine's runner does."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    built = [PARAM_SCHEDULERS.build(copy.deepcopy(s), default_args=dict(optimizer=optimizer,
                                                                          epoch_length=iters_per_epoch))
             for s in schedulers]
    lrs = []
    for _ in range(epochs):
        for _ in range(iters_per_epoch):
            lrs.append(optimizer.param_groups[0]['lr'])
            for s in built:
                if not s.by_epoch:
                    s.step()
        for s in built:
            if s.by_epoch:
                s.step()
    return lrs


def _cos(start, end, factor):
    return end + (start - end) / 2 * (math.cos(math.pi * factor) + 1)


def _original_lrs(rule, warmup, base_lr, epochs, L):
    """mmcv's LrUpdaterHook: ``rule(epoch, iter)`` gives the regular lr; warm-up multiplies it."""
    lrs = []
    for e in range(epochs):
        for i in range(L):
            it = e * L + i
            lr = rule(e, it)
            if warmup is not None:
                kind, n, ratio = warmup
                if it < n:
                    lr = lr * (1 - (1 - it / n) * (1 - ratio)) if kind == 'linear' else lr * ratio
            lrs.append(lr)
    return lrs


E, L, LR = 5, 7, 0.1
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `scheduler.step\(\)`")


@pytest.mark.parametrize('lr_config, rule, warmup', [
    (dict(policy='CosineAnnealing', min_lr=0, by_epoch=False),
     lambda e, it: _cos(LR, 0, it / (E * L)), None),
    (dict(policy='CosineAnnealing', min_lr=0, by_epoch=False, warmup='linear', warmup_iters=10, warmup_ratio=0.01),
     lambda e, it: _cos(LR, 0, it / (E * L)), ('linear', 10, 0.01)),
    (dict(policy='CosineAnnealing', min_lr=1e-3, by_epoch=True),
     lambda e, it: _cos(LR, 1e-3, e / E), None),
    (dict(policy='CosineAnnealing', min_lr_ratio=0.1, by_epoch=False),
     lambda e, it: _cos(LR, LR * 0.1, it / (E * L)), None),
    (dict(policy='step', step=[2, 4], gamma=0.5),
     lambda e, it: LR * 0.5 ** sum(e >= s for s in (2, 4)), None),
    (dict(policy='step', step=2, warmup='constant', warmup_iters=4, warmup_ratio=0.25),
     lambda e, it: LR * 0.1 ** (e // 2), ('constant', 4, 0.25)),
    (dict(policy='poly', power=0.9, min_lr=1e-4),
     lambda e, it: (LR - 1e-4) * (1 - e / E) ** 0.9 + 1e-4, None),
    (dict(policy='fixed', warmup='linear', warmup_iters=5, warmup_ratio=0.2),
     lambda e, it: LR, ('linear', 5, 0.2)),
])
def test_learning_rate_matches_the_original_at_every_iteration(lr_config, rule, warmup):
    ours = _mmengine_lrs(lr_config_to_schedulers(lr_config, E), LR, E, L)
    expected = _original_lrs(rule, warmup, LR, E, L)
    assert ours == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_linear_warmup_in_epochs_ends_one_iteration_early():
    """mmengine cannot make an epoch-long span one iteration longer: the documented near match."""
    lr_config = dict(policy='step', step=[3], warmup='linear', warmup_iters=2, warmup_by_epoch=True, warmup_ratio=0.1)
    ours = _mmengine_lrs(lr_config_to_schedulers(lr_config, E), LR, E, L)
    expected = _original_lrs(lambda e, it: LR * 0.1 ** (e >= 3), ('linear', 2 * L, 0.1), LR, E, L)
    n = 2 * L
    assert ours[0] == pytest.approx(LR * 0.1) and ours[n:] == pytest.approx(expected[n:], rel=1e-9)
    assert max(abs(a / b - 1) for a, b in zip(ours, expected)) <= (1 - 0.1) / n / 0.1 + 1e-9
    assert ours[n - 1] == pytest.approx(LR)  # the ramp ends at iteration n - 1 instead of n


def test_poly_per_iteration_ends_one_iteration_early():
    lr_config = dict(policy='poly', power=0.9, min_lr=1e-4, by_epoch=False)
    ours = _mmengine_lrs(lr_config_to_schedulers(lr_config, E), LR, E, L)
    expected = _original_lrs(lambda e, it: (LR - 1e-4) * (1 - it / (E * L)) ** 0.9 + 1e-4, None, LR, E, L)
    assert ours[0] == expected[0] and ours[-1] == pytest.approx(1e-4)
    assert max(abs(a - b) for a, b in zip(ours, expected)) <= (LR - 1e-4) * (1 / (E * L)) ** 0.9 + 1e-12
