# potsdam3 for STEGO-style training: the whole patches (Potsdam is never five-
# cropped) with KNN pairs (tools/precompute_knn.py), as STEGO trains on
# Potsdam-3. The images are read in IIC's list order (splits/train.txt,
# written by the converter), the order of upstream STEGO's KNN files, so such
# a file can be used (upstream_order='list'); files of
# tools/precompute_knn.py are matched by image path whatever the order.
# Evaluation is the protocol of ./potsdam3.py. Leaf configs set knn_file for
# their backbone.
_base_ = './potsdam3.py'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='KNNPairDataset',
        knn_file='nns/nns_vit_small_potsdam_train_None_224.npz',
        num_neighbors=7,
        upstream_order='list',
        dataset=dict(
            type='Potsdam3Dataset',
            data_root='data/potsdam',
            ann_file='splits/train.txt',
            data_prefix=dict(
                img_path='img_dir/train', seg_map_path='ann_dir/train'
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
