# DG-STGCN, joint stream, Kinetics-Skeleton (ST-GCN's OpenPose skeletons: 18 joints, x, y, score).
# Data (the release may not be redistributed; see docs/paper_datasets.md):
#     python tools/data/kinetics_skeleton_preproc.py path/to/kinetics-skeleton \
#         data/kinetics_skeleton/kinetics_skeleton.pkl
# The converter keeps ST-GCN's protocol: the two best-scored persons of each frame, at most 300 frames,
# x and y in pixels of the 340 x 256 frames (each sample's img_shape, which PreNormalize2D reads).
# The paper gives no Kinetics-Skeleton recipe beyond the model: this is the original PYSKL's 2D Kinetics
# recipe (configs/dgstgcn/k400_hrnet) on the openpose layout. Trained on 8 GPUs x 16 samples (batch 128)
# with lr 0.1; for another total batch size scale the lr linearly (tools/train.py --auto-scale-lr).
# b.py, jm.py and bm.py derive from this file.
model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='DGSTGCN',
        in_channels=3,
        gcn_ratio=0.125,
        gcn_ctr='T',
        gcn_ada='T',
        tcn_ms_cfg=[(3, 1), (3, 2), (3, 3), (3, 4), ('max', 3), '1x1'],
        graph_cfg=dict(layout='openpose', mode='random', num_filter=8, init_off=.04, init_std=.02)),
    cls_head=dict(type='GCNHead', num_classes=400, in_channels=256))

dataset_type = 'PoseDataset'
ann_file = 'data/kinetics_skeleton/kinetics_skeleton.pkl'
label_map = 'data/kinetics_skeleton/kinetics_skeleton_label_map.txt'
train_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='openpose', feats=['j']),
    dict(type='UniformSample', clip_len=100),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
val_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='openpose', feats=['j']),
    dict(type='UniformSample', clip_len=100, num_clips=1),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
test_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='openpose', feats=['j']),
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
    train=dict(type=dataset_type, ann_file=ann_file, pipeline=train_pipeline, split='train', layout='openpose',
               label_map=label_map),
    val=dict(type=dataset_type, ann_file=ann_file, pipeline=val_pipeline, split='val', layout='openpose',
             label_map=label_map),
    test=dict(type=dataset_type, ann_file=ann_file, pipeline=test_pipeline, split='val', layout='openpose',
              label_map=label_map))

# optimizer
optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0005, nesterov=True)
optimizer_config = dict(grad_clip=None)
# learning policy
lr_config = dict(policy='CosineAnnealing', min_lr=0, by_epoch=False)
total_epochs = 16
checkpoint_config = dict(interval=1)
evaluation = dict(interval=1, metrics=['top_k_accuracy'])  # top-1 and top-5, as GCN papers report
log_config = dict(interval=100, hooks=[dict(type='TextLoggerHook')])

# runtime settings
log_level = 'INFO'
work_dir = './work_dirs/dgstgcn/kinetics_skeleton/j'
