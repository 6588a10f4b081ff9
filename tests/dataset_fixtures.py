# Copyright (c) mmuss contributors. All rights reserved.
"""Tiny datasets written in the official download formats."""

import cv2
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


def write_nyu(root, train, test, labels, hha, rgb, rgb_suffix='.png'):
    """UniM2's NYU release: RGB/<id><rgb_suffix> stored as given (the
    release stores them transposed), HHA/<id>.png, Labels/<id>.png
    (NYU-40), train.txt and test.txt listing the ids without zero padding.
    """
    for folder in ('RGB', 'HHA', 'Labels'):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name, label in labels.items():
        Image.fromarray(rgb[name]).save(root / 'RGB' / f'{name}{rgb_suffix}')
        Image.fromarray(hha[name]).save(root / 'HHA' / f'{name}.png')
        Image.fromarray(label).save(root / 'Labels' / f'{name}.png')
    for split, names in (('train', train), ('test', test)):
        text = ''.join(f'{int(name)}\n' for name in names)
        (root / f'{split}.txt').write_text(text)


def write_mfnet(root, images, labels, splits):
    """Official MFNet: images/<id>.png (8-bit RGBA = RGB + thermal),
    labels/<id>.png (0-8) and <split>.txt lists."""
    (root / 'images').mkdir(parents=True, exist_ok=True)
    (root / 'labels').mkdir(exist_ok=True)
    for name, rgbt in images.items():
        Image.fromarray(rgbt, 'RGBA').save(root / 'images' / f'{name}.png')
        Image.fromarray(labels[name]).save(root / 'labels' / f'{name}.png')
    for split, names in splits.items():
        (root / f'{split}.txt').write_text(''.join(f'{n}\n' for n in names))


MCUBES_FOLDERS = (
    'polL_color',
    'polL_aolp_sin',
    'polL_aolp_cos',
    'polL_dolp',
    'NIR_warped',
    'GT',
    'list_folder',
)


def write_mcubes(root, sets, splits):
    """Official MCubeS: per image set a dict with 'rgb' (16-bit RGB),
    'nir' (16-bit), 'sin', 'cos', 'dolp' (float arrays) and 'label'."""
    for folder in MCUBES_FOLDERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name, arrays in sets.items():
        cv2.imwrite(
            str(root / 'polL_color' / f'{name}.png'), arrays['rgb'][..., ::-1]
        )
        cv2.imwrite(str(root / 'NIR_warped' / f'{name}.png'), arrays['nir'])
        np.save(root / 'polL_aolp_sin' / f'{name}.npy', arrays['sin'])
        np.save(root / 'polL_aolp_cos' / f'{name}.npy', arrays['cos'])
        np.save(root / 'polL_dolp' / f'{name}.npy', arrays['dolp'])
        Image.fromarray(arrays['label']).save(root / 'GT' / f'{name}.png')
    for split, names in splits.items():
        text = ''.join(f'{n}\n' for n in names)
        (root / 'list_folder' / f'{split}.txt').write_text(text)


NYU_NAMES = ('0001', '0002', '0003')


def nyu_source(root, rgb_suffix='.png'):
    """Three 6x8 NYU image sets (train 0001-0002, test 0003); RGB stored
    transposed as in UniM2's release. Returns (labels, hha, rgb in label
    orientation)."""
    rng = np.random.default_rng(0)
    labels, hha, rgb, stored = {}, {}, {}, {}
    for name in NYU_NAMES:
        labels[name] = rng.integers(0, 41, (6, 8)).astype(np.uint8)
        hha[name] = rng.integers(0, 256, (6, 8, 3), np.uint8)
        rgb[name] = rng.integers(0, 256, (6, 8, 3), np.uint8)
        stored[name] = np.ascontiguousarray(rgb[name].transpose(1, 0, 2))
    write_nyu(
        root, NYU_NAMES[:2], NYU_NAMES[2:], labels, hha, stored, rgb_suffix
    )
    return labels, hha, rgb


MFNET_SPLITS = dict(
    train=['00001D', '00002N', '00001D_flip'], val=['00003D'], test=['00004N']
)


def mfnet_source(root):
    """Four 6x8 MFNet RGB-T image sets; train lists a "_flip" entry.
    Returns (images, labels)."""
    rng = np.random.default_rng(0)
    names = ['00001D', '00002N', '00003D', '00004N']
    images = {n: rng.integers(0, 256, (6, 8, 4), np.uint8) for n in names}
    labels = {n: rng.integers(0, 9, (6, 8)).astype(np.uint8) for n in names}
    write_mfnet(root, images, labels, MFNET_SPLITS)
    return images, labels


MCUBES_SPLITS = dict(
    train=['a_0001', 'a_0002'], val=['b_0001'], test=['c_0001']
)
MCUBES_WIDTH = 196  # 4 columns after the left 192


def mcubes_source(root):
    """Four 5x196 MCubeS image sets (16-bit RGB and NIR, AoLP from random
    angles). Returns the arrays of each set."""
    rng = np.random.default_rng(0)
    sets = {}
    size = (5, MCUBES_WIDTH)
    for name in sum(MCUBES_SPLITS.values(), []):
        angle = rng.uniform(0, np.pi, size)
        sets[name] = dict(
            rgb=rng.integers(0, 65536, size + (3,)).astype(np.uint16),
            nir=rng.integers(0, 65536, size).astype(np.uint16),
            sin=np.sin(angle),
            cos=np.cos(angle),
            dolp=rng.uniform(0, 0.6, size),
            label=rng.choice([0, 7, 19, 255], size).astype(np.uint8),
        )
    write_mcubes(root, sets, MCUBES_SPLITS)
    return sets
