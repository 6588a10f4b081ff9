# MCubeS "I": RGB only, i.e. STEGO on DINOv3 ViT-S/16 (UniM2Head without
# auxiliary modalities: no MSN, no fusion, no CMH), with the released RGB
# weights and shifts (see ./_dinov3_vits16_mcubes20.py).
_base_ = './_dinov3_vits16_mcubes20.py'
model = dict(
    decode_head=dict(
        modalities=(),
        use_cmh=False,
        loss_cmcs=dict(modalities=dict(image={{_base_.image_cmcs}})),
    )
)
