# cocostuff27 for STEGO-style training: the five-crop training set
# (tools/dataset_converters/five_crop.py on a config inheriting this file)
# with KNN pairs (tools/precompute_knn.py), as STEGO trains on COCO-Stuff-27.
# STEGO trains on IIC's unversioned list Coco164kFull_Stuff_Coarse.txt
# (97,702 train2017 images, 488,510 crops; src/data.py uses subset=None for
# training) and evaluates on the version-7 list of ./cocostuff27.py; the
# converter copies the list from --curated-dir. Leaf configs set knn_file for
# their backbone.
_base_ = './cocostuff27.py'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='KNNPairDataset',
        knn_file='nns/nns_vit_small_cocostuff27_train_five_224.npz',
        num_neighbors=7,
        # the crop list is image-major in list order, as upstream numbers
        # its crops (5 * i + k), so upstream STEGO KNN files can be used
        upstream_order='list',
        dataset=dict(
            type='COCOStuff27Dataset',
            data_root='data/cocostuff/five_crop_0.5',
            ann_file='curated/train2017/Coco164kFull_Stuff_Coarse.txt',
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
