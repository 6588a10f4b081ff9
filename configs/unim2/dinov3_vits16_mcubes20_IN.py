# MCubeS "IN": RGB + nir (UniM2 CMCS + CMH, progressive
# fusion in this order); see ./_dinov3_vits16_mcubes20.py for where the
# numbers come from.
_base_ = './_dinov3_vits16_mcubes20.py'
model = dict(
    decode_head=dict(
        modalities=('nir',),
        loss_cmcs=dict(
            modalities=dict(
                image={{_base_.image_cmcs}},
                nir={{_base_.auxiliary_cmcs}},
            )
        ),
    )
)
