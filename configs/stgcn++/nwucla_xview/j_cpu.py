# ST-GCN++, joint stream, NW-UCLA cross-view: the CPU recipe (2 cores), DG-STGCN's
# (configs/dgstgcn/nwucla_xview/j_cpu.py says why each change from the full recipe) on the network of ./j.py.
#     python tools/train.py configs/stgcn++/nwucla_xview/j_cpu.py --validate --test-last
_base_ = ['./j.py']

clip_len = 32  # j.py: 52

train_pipeline = [
    {{_base_.normalize}},
    dict(type='RandomFlip', flip_ratio=0.5, dataset='nw-ucla'),  # left <-> right
    dict(type='RandomRot', theta=0.3),  # up to +-17 degrees about each axis
    dict(type='RandomScale', scale=0.2, isotropic=True),  # x 0.8 .. 1.2
    dict(type='GenSkeFeat', dataset='nw-ucla', feats=['j']),
    dict(type='UniformSampleDecode', clip_len=clip_len, short='stretch'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
val_pipeline = [
    {{_base_.normalize}},
    dict(type='GenSkeFeat', dataset='nw-ucla', feats=['j']),
    dict(type='UniformSampleDecode', clip_len=clip_len, num_clips=1, short='stretch'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
test_pipeline = [
    {{_base_.normalize}},
    dict(type='GenSkeFeat', dataset='nw-ucla', feats=['j']),
    dict(type='UniformSampleDecode', clip_len=clip_len, num_clips=5, short='stretch'),
    dict(type='MirroredClips', dataset='nw-ucla'),  # 5 clips -> 10: each with its mirrored copy
    dict(type='FormatGCNInput', num_person=1),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
data = dict(
    workers_per_gpu=0,  # two cores: loading in the training process is faster than beside it
    train=dict(dataset=dict(pipeline=train_pipeline)),
    val=dict(pipeline=val_pipeline),
    test=dict(pipeline=test_pipeline))
model = dict(cls_head=dict(label_smoothing=0.1))
total_epochs = 10  # of the training set repeated 5 times
lr_config = dict(_delete_=True, policy='CosineAnnealing', min_lr=0, by_epoch=False, warmup='linear',
                 warmup_iters=100, warmup_ratio=0.01)
evaluation = dict(interval=1)
checkpoint_config = dict(interval=1)
work_dir = './work_dirs/stgcn++/nwucla_xview/j_cpu'
