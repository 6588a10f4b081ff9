# potsdam3 with KNN pairs (./potsdam3_knn.py) and a Depth Anything V2
# depth map stacked onto every image (./depth_anything_v2.py), for MSSSeg:
# make the maps of the training and evaluation images with
#   python tools/precompute_depth.py CONFIG
_base_ = ['./potsdam3_knn.py', './depth_anything_v2.py']
train_dataloader = dict(
    dataset=dict(dataset=dict(pipeline={{_base_.depth_train_pipeline}}))
)
val_dataloader = dict(dataset=dict(pipeline={{_base_.depth_test_pipeline}}))
test_dataloader = val_dataloader
