# STEGO + StructAug (MSSSeg's learnable structural augmentation, §3.3) on
# the embedded demo: STEGO as in ./tiny-vit_synthetic.py plus a second
# correspondence loss between each image and its StructAug view (the view
# in the KNN slot: its codes distilled from the clean image's feature
# correlations). The view's 9 scalars train through the frozen backbone
# (backbone_grad=True) behind gradient reversal, so the corruption grows
# against the head (MSSSeg's adversarial curriculum). Test time averages the
# clean image and 4 random StructAug views.
_base_ = './tiny-vit_synthetic.py'
model = dict(
    backbone_grad=True,
    view_generators=dict(structaug=dict(type='StructAug', adversarial=True)),
    decode_head=dict(
        cross_view='structaug',
        loss_cross_view=dict(
            type='StegoCorrespondenceLoss',
            loss_name='loss_view_corr',
            weight_self=0.0,
            weight_knn=1.0,
            weight_rand=0.0,
            shift_knn=0.3,
            centering='stego',
        ),
    ),
    test_cfg=dict(tta_views=['structaug'] * 4),
)
