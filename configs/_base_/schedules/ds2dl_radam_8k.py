# DS²DL's optimisation (Sec. 4.3): RAdam for COCO-Stuff and Cityscapes (Adam
# for Potsdam: leaf configs switch the type), batch 32 (the dataset leaves
# set it), 8,000 steps (Cityscapes; COCO-Stuff 15,000, Potsdam 4,000).
# Learning rates are not given in the paper; choice: SmooSeg's code base,
# which DS²DL builds on: 1e-4 for the projection and the pair bias b, 5e-4
# for the local prototypes (the global ones are EMA buffers), 10x the base
# rate for the linear probe (supervised upper bound, reported apart).
_base_ = './stego_adam_5k.py'
optim_wrapper = dict(
    optimizer=dict(type='RAdam', lr=1e-4),
    paramwise_cfg=dict(
        custom_keys={
            '_delete_': True,  # STEGO's cluster-probe key does not apply
            'decode_head.prototypes': dict(lr_mult=5.0),
            'linear_probe': dict(lr_mult=10.0),
        }
    ),
)
train_cfg = dict(max_iters=8000, val_interval=1000)
