# Runtime shared by every mmuss config. Importing mmuss registers its
# modules into mmsegmentation's registries; default_scope stays 'mmseg'.
default_scope = 'mmseg'
custom_imports = dict(imports=['mmuss'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer'
)
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
# Safety hooks of every run; a config that sets its own custom_hooks keeps
# these four entries (tests/test_configs.py checks every config):
# - ClassCountCheckHook: fails before any work when model and datasets
#   disagree on class counts;
# - CheckpointCheckHook: refuses checkpoints whose keys do not fit the model
#   (tools: --allow-key-mismatch) and resumes from the newest readable one;
# - NonFiniteCheckHook: stops at a NaN/inf loss, gradient or weight
#   (train.py --skip-non-finite-steps: skip such steps);
# - RandomStateHook: random states in checkpoints, exact resume.
custom_hooks = [
    dict(type='ClassCountCheckHook'),
    dict(type='CheckpointCheckHook'),
    dict(type='NonFiniteCheckHook'),
    dict(type='RandomStateHook'),
]
