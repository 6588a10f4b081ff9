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
# Fails before any work when model and datasets disagree on class counts.
# A config that sets its own custom_hooks should keep this entry.
custom_hooks = [dict(type='ClassCountCheckHook')]
