# STEGO + PHLoss (MSSSeg's persistent-homology loss, §3.4) on the embedded
# demo: STEGO as in ./tiny-vit_synthetic.py plus PHLoss on the model's own
# cluster probabilities (the segmentor's cluster_losses route: the cluster
# probe's softmax(alpha * cos) with its centres detached, at the code
# resolution), against their own detached argmax as the reference mask:
# components and holes of each present cluster's map that its hard mask
# has are pushed to (1, 0) (Eq. 9), the others to the diagonal (Eq. 10).
# Gradients reach the head's codes at the critical pixels only.
_base_ = './tiny-vit_synthetic.py'
model = dict(
    cluster_losses=[
        dict(
            type='PHLoss',
            channels='present',
            homology_dims=(0, 1),
            num_workers=2,
            loss_weight=1.0,
        )
    ]
)
