# MS-G3D, joint stream, NW-UCLA cross-view (train on views 1 and 2, test on view 3): DG-STGCN's NW-UCLA recipe
# (configs/dgstgcn/nwucla_xview/j.py says why each step) with the MS-G3D network; the CPU recipe is
# ./j_cpu.py.
# Data: python tools/data/nwucla_preproc.py path/to/all_sqe data/nw-ucla/nwucla_3danno.pkl
#     python tools/train.py configs/msg3d/nwucla_xview/j.py --validate --test-last
model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='MSG3D',
        # the data BatchNorm normalises exactly num_person persons; NW-UCLA's pipeline gives one (default 2)
        num_person=1,
        graph_cfg=dict(layout='nw-ucla', mode='binary_adj')),
    cls_head=dict(type='GCNHead', num_classes=10, in_channels=384))

dataset_type = 'PoseDataset'
ann_file = 'data/nw-ucla/nwucla_3danno.pkl'
label_map = 'data/nw-ucla/nwucla_label_map.txt'
clip_len = 52
# centre on the spine (joint 2) and turn the body into its own frame: hip centre -> spine up (z),
# right -> left shoulder along x, in the first frame
normalize = dict(type='PreNormalize3D', zaxis=(0, 1), xaxis=(8, 4), align_spine=True, center_joint=1)
train_pipeline = [
    normalize,
    dict(type='RandomRot', theta=0.3),  # up to +-17 degrees about each axis
    dict(type='RandomScale', scale=0.5, isotropic=True),  # x 0.5 .. 1.5
    dict(type='GenSkeFeat', dataset='nw-ucla', feats=['j']),
    dict(type='UniformSampleDecode', clip_len=clip_len, short='stretch'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
val_pipeline = [
    normalize,
    dict(type='GenSkeFeat', dataset='nw-ucla', feats=['j']),
    dict(type='UniformSampleDecode', clip_len=clip_len, num_clips=1, short='stretch'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
test_pipeline = [
    normalize,
    dict(type='GenSkeFeat', dataset='nw-ucla', feats=['j']),
    dict(type='UniformSampleDecode', clip_len=clip_len, num_clips=10, short='stretch'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
data = dict(
    videos_per_gpu=16,
    workers_per_gpu=2,
    test_dataloader=dict(videos_per_gpu=8),
    train=dict(
        type='RepeatDataset',
        times=5,
        dataset=dict(type=dataset_type, ann_file=ann_file, pipeline=train_pipeline, split='xview_train',
                     layout='nw-ucla', num_classes=10, label_map=label_map)),
    val=dict(type=dataset_type, ann_file=ann_file, pipeline=val_pipeline, split='xview_val', layout='nw-ucla',
             num_classes=10, label_map=label_map),
    test=dict(type=dataset_type, ann_file=ann_file, pipeline=test_pipeline, split='xview_val', layout='nw-ucla',
              num_classes=10, label_map=label_map))

# optimizer: lr 0.1 for a batch of 16 on one device (--auto-scale-lr scales it from there)
auto_scale_lr = dict(base_batch_size=16)
optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0001, nesterov=True)
optimizer_config = dict(grad_clip=None)
# learning policy
lr_config = dict(policy='step', step=[50], warmup='linear', warmup_iters=5, warmup_by_epoch=True,
                 warmup_ratio=0.01)
total_epochs = 65
checkpoint_config = dict(interval=5, max_keep_ckpts=2)
evaluation = dict(interval=5, metrics=['top_k_accuracy', 'mean_class_accuracy'])
log_config = dict(interval=50, hooks=[dict(type='TextLoggerHook')])

# runtime settings
log_level = 'INFO'
work_dir = './work_dirs/msg3d/nwucla_xview/j'
