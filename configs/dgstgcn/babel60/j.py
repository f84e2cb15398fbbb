# DG-STGCN, joint stream, BABEL-60 (AMASS motion capture as NTU RGB+D 25-joint 3D skeletons, one person).
# Data (the release may not be redistributed; see docs/paper_datasets.md):
#     python tools/data/babel_preproc.py path/to/babel_feats_labels data/babel/babel60.pkl --classes 60
# (add --action-index path/to/BABEL/action_recognition/data/action_label_2_idx.json for a label map).
# BABEL's test labels are held by its evaluation server: train on 'train', validate and test on 'val'.
# The metrics are top-1, top-5 and top-1-norm (mean_class_accuracy, the mean of the per-class accuracies).
# The original PYSKL's NTU 3D recipe with one person (BABEL has one); the same recipe for babel60 and
# babel120. BABEL is long-tailed: its baselines also train with a class-balanced focal loss, which is
# one line here (class_counts: the training samples of each class; FocalLoss in pyskl/models/losses.py):
#     cls_head=dict(type='GCNHead', num_classes=60, in_channels=256,
#                   loss_cls=dict(type='FocalLoss', gamma=1.0, class_counts=[...], beta=0.9999, mode='sigmoid'))
# Trained on 8 GPUs x 16 samples (batch 128) with lr 0.1; for another total batch size scale the lr
# linearly (tools/train.py --auto-scale-lr). b.py, jm.py and bm.py derive from this file.
model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='DGSTGCN',
        num_person=1,
        gcn_ratio=0.125,
        gcn_ctr='T',
        gcn_ada='T',
        tcn_ms_cfg=[(3, 1), (3, 2), (3, 3), (3, 4), ('max', 3), '1x1'],
        graph_cfg=dict(layout='nturgb+d', mode='random', num_filter=8, init_off=.04, init_std=.02)),
    cls_head=dict(type='GCNHead', num_classes=60, in_channels=256))

dataset_type = 'PoseDataset'
ann_file = 'data/babel/babel60.pkl'
train_pipeline = [
    dict(type='PreNormalize3D', align_spine=False),
    dict(type='RandomRot', theta=0.2),
    dict(type='GenSkeFeat', feats=['j']),
    dict(type='UniformSampleDecode', clip_len=100),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
val_pipeline = [
    dict(type='PreNormalize3D', align_spine=False),
    dict(type='GenSkeFeat', feats=['j']),
    dict(type='UniformSampleDecode', clip_len=100, num_clips=1),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
test_pipeline = [
    dict(type='PreNormalize3D', align_spine=False),
    dict(type='GenSkeFeat', feats=['j']),
    dict(type='UniformSampleDecode', clip_len=100, num_clips=10),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
data = dict(
    videos_per_gpu=16,
    workers_per_gpu=2,
    test_dataloader=dict(videos_per_gpu=1),
    train=dict(
        type='RepeatDataset',
        times=5,
        dataset=dict(type=dataset_type, ann_file=ann_file, pipeline=train_pipeline, split='train',
                     layout='nturgb+d')),
    val=dict(type=dataset_type, ann_file=ann_file, pipeline=val_pipeline, split='val', layout='nturgb+d'),
    test=dict(type=dataset_type, ann_file=ann_file, pipeline=test_pipeline, split='val', layout='nturgb+d'))

# optimizer
optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0005, nesterov=True)
optimizer_config = dict(grad_clip=None)
# learning policy
lr_config = dict(policy='CosineAnnealing', min_lr=0, by_epoch=False)
total_epochs = 16
checkpoint_config = dict(interval=1)
evaluation = dict(interval=1, metrics=['top_k_accuracy', 'mean_class_accuracy'])
log_config = dict(interval=100, hooks=[dict(type='TextLoggerHook')])

# runtime settings
log_level = 'INFO'
work_dir = './work_dirs/dgstgcn/babel60/j'
