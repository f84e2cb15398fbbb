# DG-STGCN, joint stream, Kinetics-400, 2D skeletons (COCO-17 from HRNet: x, y, score).
# The data is the original PYSKL's compressed form: k400_hrnet.pkl (boxes per video, no keypoints)
# plus the kpfiles folder; see the README, "Kinetics-400". cache=True packs every kpfile once into
# data/k400/k400_hrnet.pkl.cache (memory-mapped, shared by every rank and worker of a machine);
# build it ahead with  python tools/data/k400_cache.py data/k400/k400_hrnet.pkl data/k400/kpfiles
# Boxes scoring below box_thr are dropped (valid_ratio=0: no video is), DecompressPose keeps the
# frames with a box and the 10 most confident persons of each frame, FormatGCNInput the first 2.
# Trained on 8 GPUs x 16 samples (batch 128) with lr 0.1; for another total batch size scale the
# lr linearly (tools/train.py --auto-scale-lr). b.py, jm.py and bm.py derive from this file.
model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='DGSTGCN',
        in_channels=3,
        gcn_ratio=0.125,
        gcn_ctr='T',
        gcn_ada='T',
        tcn_ms_cfg=[(3, 1), (3, 2), (3, 3), (3, 4), ('max', 3), '1x1'],
        graph_cfg=dict(layout='coco', mode='random', num_filter=8, init_off=.04, init_std=.02)),
    cls_head=dict(type='GCNHead', num_classes=400, in_channels=256))

dataset_type = 'PoseDataset'
ann_file = 'data/k400/k400_hrnet.pkl'
kpfile_dir = 'data/k400/kpfiles'
box_thr = 0.5
valid_ratio = 0.0
train_pipeline = [
    dict(type='DecompressPose', squeeze=True, max_person=10),
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(type='UniformSample', clip_len=100),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
val_pipeline = [
    dict(type='DecompressPose', squeeze=True, max_person=10),
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(type='UniformSample', clip_len=100, num_clips=1),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
test_pipeline = [
    dict(type='DecompressPose', squeeze=True, max_person=10),
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(type='UniformSample', clip_len=100, num_clips=10),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
data = dict(
    videos_per_gpu=16,
    workers_per_gpu=2,
    test_dataloader=dict(videos_per_gpu=1),
    train=dict(
        type=dataset_type, ann_file=ann_file, pipeline=train_pipeline, split='train', kpfile_dir=kpfile_dir,
        cache=True, box_thr=box_thr, valid_ratio=valid_ratio),
    val=dict(type=dataset_type, ann_file=ann_file, pipeline=val_pipeline, split='val', kpfile_dir=kpfile_dir,
             cache=True, box_thr=box_thr, valid_ratio=valid_ratio),
    test=dict(type=dataset_type, ann_file=ann_file, pipeline=test_pipeline, split='val', kpfile_dir=kpfile_dir,
              cache=True, box_thr=box_thr, valid_ratio=valid_ratio))

# optimizer
optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0005, nesterov=True)
optimizer_config = dict(grad_clip=None)
# learning policy
lr_config = dict(policy='CosineAnnealing', min_lr=0, by_epoch=False)
total_epochs = 16
checkpoint_config = dict(interval=1)
evaluation = dict(interval=1, metrics=['top_k_accuracy'])
log_config = dict(interval=100, hooks=[dict(type='TextLoggerHook')])

# runtime settings
log_level = 'INFO'
work_dir = './work_dirs/dgstgcn/k400_hrnet/j'
