# MSSSeg's optimisation is not given anywhere in the paper (optimiser, rate,
# batch, steps): STEGO's (the Pseudo Head's protocol) — Adam 5e-4 for the
# heads, DBC and DCA, 10x for the probes (the Pseudo Head's k-means
# included), 5,000 steps — and 2x for StructAug's 9 scalars (our choice).
_base_ = './stego_adam_5k.py'
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            'decode_head.pseudo_probe': dict(lr_mult=10.0),
            'view_generators': dict(lr_mult=2.0),
        }
    )
)
