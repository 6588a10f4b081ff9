# PASCAL VOC 2012 (21 classes, ./pascal_voc21.py) with a Depth Anything V2
# depth map stacked onto every image (./depth_anything_v2.py), for MSSSeg's
# supplementary benchmark: make the maps with
#   python tools/precompute_depth.py CONFIG
_base_ = ['./pascal_voc21.py', './depth_anything_v2.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.depth_train_pipeline}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.depth_test_pipeline}}))
test_dataloader = val_dataloader
