# potsdam3 for PriMaPs-EM: whole training images resized to 320 (short side)
# and centre-cropped (no five-crop), horizontal flips, precomputed PriMaPs
# proposals (tools/precompute_primaps.py) and a photometrically augmented
# student view. Leaf configs set the crop size and mask_dir.
_base_ = './potsdam3.py'
train_dataloader = dict(
    batch_size=32,
    sampler=dict(type='DefaultSampler', shuffle=True),
)
