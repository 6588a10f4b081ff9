# cocostuff27 for STEGO-style training: the five-crop training set
# (tools/dataset_converters/five_crop.py) with KNN pairs
# (tools/precompute_knn.py), as STEGO trains on COCO-Stuff-27. Evaluation is
# the protocol of ./cocostuff27.py. Leaf configs set knn_file for their
# backbone.
_base_ = './cocostuff27.py'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='KNNPairDataset',
        knn_file='nns/nns_vit_small_cocostuff27_train_five_224.npz',
        num_neighbors=7,
        dataset=dict(
            type='COCOStuff27Dataset',
            data_root='data/cocostuff/five_crop_0.5',
            ann_file='curated/train2017/Coco164kFull_Stuff_Coarse_7.txt',
            data_prefix=dict(
                img_path='images/train2017',
                seg_map_path='annotations/train2017',
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
