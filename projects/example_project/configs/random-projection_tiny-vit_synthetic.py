# The embedded demo with the example project's head instead of the
# identity (baseline) head. Run from the repository root:
#   python tools/train.py \
#     projects/example_project/configs/random-projection_tiny-vit_synthetic.py
_base_ = ['../../../configs/baseline/tiny-vit_synthetic.py']
custom_imports = dict(
    imports=['mmuss', 'projects.example_project.example'],
    allow_failed_imports=False,
)
model = dict(
    decode_head=dict(
        _delete_=True, type='RandomProjectionHead', in_channels=96, channels=32
    )
)
