# DG-STGCN, joint stream, Toyota Smarthome, cross-view 2 (LCR-Net++ 3D skeletons, 13 joints).
# Data (the release may not be redistributed; see docs/paper_datasets.md):
#     python tools/data/smarthome_preproc.py path/to/skeleton_json data/smarthome/smarthome.pkl
# writes smarthome.pkl (31 actions, cs_train / cs_test) and smarthome_cv.pkl (the 19 actions of the
# cross-view protocols: cv1_* and cv2_*, train / val (camera 5) / test (camera 2)).
# Cross-view 2: train on cameras 1, 3, 4, 6, 7, validate on camera 5, test on camera 2.
# The metric is the mean class accuracy (checkpoints are kept by it); top-1 and top-5 are logged too.
# The original PYSKL's NTU 3D recipe on the smarthome13 layout with one person, centred on the head
# (the skeleton has no spine joint); the same recipe for the three protocols. Trained on 8 GPUs x 16
# samples (batch 128) with lr 0.1; for another total batch size scale the lr linearly
# (tools/train.py --auto-scale-lr). b.py, jm.py and bm.py derive from this file.
model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='DGSTGCN',
        num_person=1,
        gcn_ratio=0.125,
        gcn_ctr='T',
        gcn_ada='T',
        tcn_ms_cfg=[(3, 1), (3, 2), (3, 3), (3, 4), ('max', 3), '1x1'],
        graph_cfg=dict(layout='smarthome13', mode='random', num_filter=8, init_off=.04, init_std=.02)),
    cls_head=dict(type='GCNHead', num_classes=19, in_channels=256))

dataset_type = 'PoseDataset'
ann_file = 'data/smarthome/smarthome_cv.pkl'
train_pipeline = [
    dict(type='PreNormalize3D', align_spine=False, center_joint=12),
    dict(type='RandomRot', theta=0.2),
    dict(type='GenSkeFeat', dataset='smarthome13', feats=['j']),
    dict(type='UniformSampleDecode', clip_len=100),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
val_pipeline = [
    dict(type='PreNormalize3D', align_spine=False, center_joint=12),
    dict(type='GenSkeFeat', dataset='smarthome13', feats=['j']),
    dict(type='UniformSampleDecode', clip_len=100, num_clips=1),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
test_pipeline = [
    dict(type='PreNormalize3D', align_spine=False, center_joint=12),
    dict(type='GenSkeFeat', dataset='smarthome13', feats=['j']),
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
        dataset=dict(type=dataset_type, ann_file=ann_file, pipeline=train_pipeline, split='cv2_train',
                     layout='smarthome13')),
    val=dict(type=dataset_type, ann_file=ann_file, pipeline=val_pipeline, split='cv2_val', layout='smarthome13'),
    test=dict(type=dataset_type, ann_file=ann_file, pipeline=test_pipeline, split='cv2_test', layout='smarthome13'))

# optimizer
optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0005, nesterov=True)
optimizer_config = dict(grad_clip=None)
# learning policy
lr_config = dict(policy='CosineAnnealing', min_lr=0, by_epoch=False)
total_epochs = 16
checkpoint_config = dict(interval=1)
evaluation = dict(interval=1, metrics=['top_k_accuracy', 'mean_class_accuracy'], save_best='mean_class_accuracy')
log_config = dict(interval=100, hooks=[dict(type='TextLoggerHook')])

# runtime settings
log_level = 'INFO'
work_dir = './work_dirs/dgstgcn/smarthome_cv2/j'
