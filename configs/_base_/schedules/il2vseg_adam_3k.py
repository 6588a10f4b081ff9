# IL2Vseg's optimisation ("Implementation Details"): Adam, lr 1e-4 for the
# projection and 5e-4 for the local clustering centres (the global ones are
# EMA buffers). Steps and batch are not given: SmooSeg's 3,000 steps (the
# dataset leaves set the batch); 10x the base rate for the linear probe
# (supervised upper bound, reported apart).
_base_ = './stego_adam_5k.py'
optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=1e-4),
    paramwise_cfg=dict(
        custom_keys={
            '_delete_': True,  # STEGO's cluster-probe key does not apply
            'decode_head.prototypes': dict(lr_mult=5.0),
            'linear_probe': dict(lr_mult=10.0),
        }
    ),
)
train_cfg = dict(max_iters=3000, val_interval=500)
