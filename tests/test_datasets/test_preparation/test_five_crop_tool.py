# Copyright (c) mmuss contributors. All rights reserved.
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from dataset_fixtures import write_coco
from helpers import REPO_ROOT, demo_config
from mmengine.config import Config
from mmseg.registry import DATASETS
from PIL import Image

from mmuss.datasets import Potsdam3Dataset, SyntheticScenesDataset
from mmuss.datasets.preparation import (
    ConversionError,
    convert_cocostuff27,
    five_crop_dataset,
)
from mmuss.datasets.preparation.cocostuff27 import STEGO_TRAIN_LIST
from mmuss.datasets.preparation.knn import save_knn_file
from mmuss.datasets.transforms import five_crop_boxes


def test_crops_of_images_and_labels(tmp_path):
    root = tmp_path / 'scenes'
    dataset = SyntheticScenesDataset(
        data_root=str(root), num_train=3, num_val=1, image_size=40
    )
    assert five_crop_dataset(dataset, str(tmp_path / 'crops')) == 3
    crop_dir = tmp_path / 'crops' / 'images' / 'train'
    assert len(os.listdir(crop_dir)) == 15
    original = np.array(Image.open(root / 'annotations/train/00001.png'))
    for k, (top, left, h, w) in enumerate(five_crop_boxes(40, 40)):
        label = np.array(
            Image.open(tmp_path / f'crops/annotations/train/00001_crop{k}.png')
        )
        np.testing.assert_array_equal(
            label, original[top : top + h, left : left + w]
        )
    cropped = SyntheticScenesDataset(
        data_root=str(tmp_path / 'crops'), generate=False
    )
    assert len(cropped) == 15
    # resume: finished crops are not rewritten
    stamp = os.path.getmtime(crop_dir / '00000_crop0.png')
    five_crop_dataset(dataset, str(tmp_path / 'crops'))
    assert os.path.getmtime(crop_dir / '00000_crop0.png') == stamp


def test_potsdam_is_never_five_cropped(tmp_path):
    (tmp_path / 'img_dir' / 'train').mkdir(parents=True)
    Image.new('RGB', (4, 4)).save(tmp_path / 'img_dir/train/p.png')
    dataset = Potsdam3Dataset(
        data_root=str(tmp_path), data_prefix=dict(img_path='img_dir/train')
    )
    with pytest.raises(ConversionError, match='never five-cropped'):
        five_crop_dataset(dataset, str(tmp_path / 'crops'))


def test_cli_on_a_config(tmp_path):
    config = tmp_path / 'demo.py'
    cfg = demo_config(tmp_path / 'work', tmp_path / 'data')
    cfg.dump(str(config))
    SyntheticScenesDataset(
        data_root=str(tmp_path / 'data'),
        num_train=16,
        num_val=8,
        num_test=4,
        image_size=64,
    )
    subprocess.run(
        [
            sys.executable,
            'tools/dataset_converters/five_crop.py',
            str(config),
            '--nproc',
            '2',
        ],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    out = tmp_path / 'data' / 'five_crop_0.5' / 'images' / 'train'
    assert len(os.listdir(out)) == 16 * 5
    assert (
        Config.fromfile(str(config)).train_dataloader.dataset.type
        == 'SyntheticScenesDataset'
    )


def test_tool_writes_what_the_stego_coco_config_reads(tmp_path):
    # a COCO-Stuff tree with IIC's lists; STEGO trains on the unversioned
    root = tmp_path / 'coco'
    names = ['000000000001', '000000000002']
    write_coco(
        root, names, [np.full((40, 48), 156, np.uint8)] * 2, curated=names[:1]
    )
    (root / 'iic' / 'train2017' / STEGO_TRAIN_LIST).write_text(
        '000000000002\n000000000001\n'
    )
    convert_cocostuff27(
        str(root), splits=('train2017',), curated_dir=str(root / 'iic')
    )
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/stego/dino_vits8_cocostuff27.py')
    )
    wrapper = cfg.train_dataloader.dataset
    wrapper.dataset.data_root = str(root / 'five_crop_0.5')
    config = tmp_path / 'stego.py'
    cfg.dump(str(config))
    subprocess.run(
        [sys.executable, 'tools/dataset_converters/five_crop.py', config],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    crop_list = root / 'five_crop_0.5' / 'curated' / 'train2017'
    listed = (crop_list / STEGO_TRAIN_LIST).read_text().split()
    # image-major, in list order: upstream's crop number 5 * i + k
    assert listed == [f'{n}_crop{k}' for n in names[::-1] for k in range(5)]
    inner = DATASETS.build(wrapper.dataset)
    assert len(inner) == 10
    sample = inner[0]
    assert sample['inputs'].shape == (3, 224, 224)
    assert sample['data_samples'].img_path.endswith('000000000002_crop0.jpg')
    # with a KNN file over the crops, the config's wrapper builds and pairs
    paths = [
        osp.relpath(inner.get_data_info(i)['img_path'], inner.data_root)
        for i in range(10)
    ]
    knn = np.stack([np.roll(np.arange(10), -i) for i in range(10)])
    save_knn_file(
        str(root / 'five_crop_0.5' / wrapper.knn_file), knn[:, :8], paths
    )
    paired = DATASETS.build(wrapper)
    assert 'knn_img' in paired[3]['data_samples']


def test_dense_maps_keep_their_values_and_format(tmp_path):
    from mmuss.datasets.preparation.five_crop import dense_maps_of_pipeline
    from mmuss.datasets.transforms import crop_array, dense_map_path

    root = tmp_path / 'scenes'
    dataset = SyntheticScenesDataset(
        data_root=str(root), num_train=1, num_val=1, image_size=40
    )
    image = str(root / 'images/train/00000.png')
    depth = np.arange(1600, dtype=np.uint16).reshape(40, 40) * 40
    depth_path = dense_map_path(image, str(root), 'depth', '.png')
    os.makedirs(osp.dirname(depth_path))
    assert cv2.imwrite(depth_path, depth)
    normals = np.random.default_rng(0).random((40, 40, 2)).astype(np.float32)
    normals_path = dense_map_path(image, str(root), 'normals', '.npy')
    os.makedirs(osp.dirname(normals_path))
    np.save(normals_path, normals)
    pipeline = [
        dict(type='LoadDenseMap', name='depth', map_dir='depth'),
        dict(
            type='LoadModality',
            name='n',
            modality_dir='normals',
            suffix='.npy',
        ),
    ]
    maps = dense_maps_of_pipeline(pipeline)
    assert maps == [('depth', '.png'), ('normals', '.npy')]
    five_crop_dataset(dataset, str(tmp_path / 'crops'), dense_maps=maps)
    box = five_crop_boxes(40, 40)[4]
    crop = str(tmp_path / 'crops/images/train/00000_crop4.png')
    depth_crop = cv2.imread(
        dense_map_path(crop, str(tmp_path / 'crops'), 'depth', '.png'),
        cv2.IMREAD_UNCHANGED,
    )
    assert depth_crop.dtype == np.uint16
    np.testing.assert_array_equal(depth_crop, crop_array(depth, box))
    normals_crop = np.load(
        dense_map_path(crop, str(tmp_path / 'crops'), 'normals', '.npy')
    )
    np.testing.assert_array_equal(normals_crop, crop_array(normals, box))
    with pytest.raises(ConversionError, match="'depth' reads maps under"):
        dense_maps_of_pipeline([dict(pipeline[0], data_root='elsewhere')])
