# Copyright (c) mmuss contributors. All rights reserved.
"""Tiny datasets written in the official download formats."""

import numpy as np
from PIL import Image
from scipy.io import savemat

from mmuss.datasets.pascal_voc21 import VOC21_PALETTE
from mmuss.datasets.preparation.cocostuff27 import CURATED_LIST
from mmuss.datasets.preparation.mastr1325 import IMAGE_DIR, MASK_DIR


def random_image(rng, height, width):
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), np.uint8))


def write_coco(root, names, labels, split='train2017', curated=None):
    """images/<split>/<id>.jpg + annotations/<split>/<id>.png (fine ids);
    optionally an IIC curated list under root/iic."""
    rng = np.random.default_rng(0)
    (root / 'images' / split).mkdir(parents=True, exist_ok=True)
    (root / 'annotations' / split).mkdir(parents=True, exist_ok=True)
    for name, label in zip(names, labels):
        random_image(rng, *label.shape).save(
            root / 'images' / split / f'{name}.jpg'
        )
        Image.fromarray(label).save(
            root / 'annotations' / split / f'{name}.png'
        )
    if curated is not None:
        folder = root / 'iic' / split
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CURATED_LIST).write_text(''.join(f'{n}\n' for n in curated))


def write_city(root, split, city, name, label, size=(16, 32)):
    """leftImg8bit/<split>/<city>/ and gtFine/<split>/<city>/ files."""
    image_dir = root / 'leftImg8bit' / split / city
    label_dir = root / 'gtFine' / split / city
    image_dir.mkdir(parents=True, exist_ok=True)
    label_dir.mkdir(parents=True, exist_ok=True)
    random_image(np.random.default_rng(len(name)), *size).save(
        image_dir / f'{name}_leftImg8bit.png'
    )
    if label is not None:
        Image.fromarray(label).save(label_dir / f'{name}_gtFine_labelIds.png')


def write_potsdam(root, labelled, unlabelled, size=200):
    """IIC's imgs/<id>.mat, gt/<id>.mat and split lists."""
    (root / 'imgs').mkdir(parents=True)
    (root / 'gt').mkdir()
    rng = np.random.default_rng(0)
    for name in labelled + unlabelled:
        savemat(
            root / 'imgs' / f'{name}.mat',
            {'img': rng.integers(0, 255, (size, size, 4), np.uint8)},
        )
    for name in labelled:
        savemat(
            root / 'gt' / f'{name}.mat',
            {'gt': rng.integers(0, 6, (size, size)).astype(np.uint8)},
        )
    (root / 'labelled_train.txt').write_text('\n'.join(labelled[:-1]))
    (root / 'labelled_test.txt').write_text(labelled[-1])
    (root / 'unlabelled_train.txt').write_text('\n'.join(unlabelled))


def palette_png(label, path):
    image = Image.fromarray(label.astype(np.uint8), mode='P')
    flat = [c for colour in VOC21_PALETTE for c in colour]
    image.putpalette(flat + [224, 224, 192] * (256 - len(VOC21_PALETTE)))
    image.save(path)


def write_voc(root, train, val, labels, size=(8, 10)):
    """VOC2012 JPEGImages, SegmentationClass (palette PNGs), ImageSets."""
    for folder in (
        'JPEGImages',
        'SegmentationClass',
        'ImageSets/Segmentation',
    ):
        (root / folder).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in train + val:
        random_image(rng, *size).save(root / 'JPEGImages' / f'{name}.jpg')
        if name in labels:
            palette_png(
                labels[name], root / 'SegmentationClass' / f'{name}.png'
            )
    (root / 'ImageSets/Segmentation/train.txt').write_text('\n'.join(train))
    (root / 'ImageSets/Segmentation/val.txt').write_text('\n'.join(val))


def write_mastr(root, names, masks):
    """MaSTr1325_images_512x384/<id>.jpg, MaSTr1325_masks_512x384/<id>m.png"""
    (root / IMAGE_DIR).mkdir(parents=True)
    (root / MASK_DIR).mkdir()
    rng = np.random.default_rng(0)
    for name, mask in zip(names, masks):
        random_image(rng, *mask.shape).save(root / IMAGE_DIR / f'{name}.jpg')
        Image.fromarray(mask).save(root / MASK_DIR / f'{name}m.png')
