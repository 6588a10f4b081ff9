# cityscapes27 for STEGO-style training: the five-crop training set
# (tools/dataset_converters/five_crop.py) with KNN pairs
# (tools/precompute_knn.py), as STEGO trains on Cityscapes-27. Evaluation is
# the protocol of ./cityscapes27.py. Leaf configs set knn_file for their
# backbone.
_base_ = './cityscapes27.py'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='KNNPairDataset',
        knn_file='nns/nns_vit_base_cityscapes_train_five_224.npz',
        num_neighbors=7,
        dataset=dict(
            type='Cityscapes27Dataset',
            data_root='data/cityscapes/five_crop_0.5',
            data_prefix=dict(
                img_path='leftImg8bit/train', seg_map_path='gtFine/train'
            ),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations'),
                dict(type='ResizeCenterCrop', size=224),
                dict(type='PackSegInputs'),
            ],
        ),
    )
)
