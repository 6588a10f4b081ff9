# Copyright (c) mmuss contributors. All rights reserved.
"""mmseg's inference entry points on the demo model, before and after its
clusters are matched to classes (tools/test.py --save-mapping)."""

import glob
import json
import os.path as osp
import re
import shutil

import mmcv
import numpy as np
import pytest
import torch
from demo_model import train_demo_model
from helpers import REPO_ROOT, run_tool
from mmseg.apis import (
    MMSegInferencer,
    inference_model,
    init_model,
    show_result_pyplot,
)

from mmuss.apis import (
    MAPPING_STATE_KEY,
    init_uss_model,
    load_mapping_json,
    mapping_json_path,
)
from mmuss.datasets import SyntheticScenesDataset
from mmuss.utils.checkpoint_safety import load_checkpoint_file

CLASSES = SyntheticScenesDataset.METAINFO['classes']
NUM_CLUSTERS = len(CLASSES)
SLIDE = {
    'model.test_cfg.mode': 'slide',
    'model.test_cfg.crop_size': (32, 32),
    'model.test_cfg.stride': (24, 24),
}
CLUSTER_NAMES = tuple(f'cluster {k}' for k in range(NUM_CLUSTERS))


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    """The demo model twice: as trained, and with the mapping of a test
    evaluation stored by tools/test.py --save-mapping."""
    folder = tmp_path_factory.mktemp('demo')
    config, checkpoint, images = train_demo_model(folder)
    mapped = str(folder / 'mapped.pth')
    shutil.copy(checkpoint, mapped)
    result = run_tool(
        'test.py',
        config,
        mapped,
        '--work-dir',
        folder / 'test',
        '--save-mapping',
    )
    return dict(
        config=config,
        checkpoint=checkpoint,
        mapped=mapped,
        image=sorted(glob.glob(str(images / '*.png')))[0],
        test_log=result.stdout + result.stderr,
        folder=folder,
    )


def test_pretrained_kwarg_is_accepted_by_every_method_demo():
    """init_model sets model.pretrained=None; each method's demo config
    builds and predicts clusters named 'cluster k'."""
    configs = sorted(
        glob.glob(osp.join(REPO_ROOT, 'configs', '*', 'tiny-vit_synthetic.py'))
    )
    assert len(configs) >= 5
    image = np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)
    for config in configs:
        model = init_model(config, None, device='cpu')
        assert model.dataset_meta['classes'][0] == 'cluster 0', config
        if getattr(model.data_preprocessor, 'aux_specs', None):
            continue  # depth / modality inputs: a bare image is not enough
        result = inference_model(model, image)
        assert result.pred_sem_seg.shape == (64, 64), config
        assert int(result.pred_sem_seg.data.max()) < model.num_clusters
        assert model.dataset_meta['classes'][0] == 'cluster 0', config


@pytest.mark.parametrize('options', [{}, SLIDE], ids=['whole', 'slide'])
def test_before_mapping_predictions_are_named_clusters(demo, options):
    model = init_model(demo['config'], demo['checkpoint'], 'cpu', options)
    assert model.dataset_meta['classes'] == CLUSTER_NAMES
    # the dataset's names stay available for the linear probe
    assert model.class_meta['classes'] == tuple(CLASSES)
    result = inference_model(model, demo['image'])
    assert 'pred_cluster_sem_seg' not in result
    expected = result.seg_logits.data.argmax(dim=0)
    assert torch.equal(result.pred_sem_seg.data[0], expected)


@pytest.mark.parametrize('options', [{}, SLIDE], ids=['whole', 'slide'])
def test_after_mapping_predictions_are_classes(demo, options):
    record = load_mapping_json(mapping_json_path(demo['mapped']))
    model = init_model(demo['config'], demo['mapped'], 'cpu', options)
    assert model.dataset_meta['classes'] == tuple(CLASSES)
    assert model.cluster_mapping.record == record
    result = inference_model(model, demo['image'])
    clusters = result.pred_cluster_sem_seg.data
    lookup = torch.tensor(record['cluster_to_class'])
    assert torch.equal(result.pred_sem_seg.data, lookup[clusters])
    # same clusters as the unmapped model's
    plain = init_model(demo['config'], demo['checkpoint'], 'cpu', options)
    assert torch.equal(
        inference_model(plain, demo['image']).pred_sem_seg.data, clusters
    )


def test_save_mapping_writes_the_logged_assignment(demo):
    """The stored mapping is the one the metric logged, in checkpoint
    state, checkpoint meta and JSON alike."""
    record = load_mapping_json(mapping_json_path(demo['mapped']))
    logged = re.search(r'cluster -> class: (.*)', demo['test_log']).group(1)
    pairs = dict(pair.split('->') for pair in logged.strip().split(', '))
    assert [CLASSES[c] for c in record['cluster_to_class']] == [
        pairs[str(k)] for k in range(NUM_CLUSTERS)
    ]
    assert record['extra_cluster_policy'] == 'majority'
    assert record['source']['split'] == 'test'
    content = load_checkpoint_file(demo['mapped'])
    assert content['meta']['cluster_mapping'] == record
    stored = bytes(content['state_dict'][MAPPING_STATE_KEY].tolist())
    assert json.loads(stored) == record


def test_mapped_checkpoint_scores_as_before(demo):
    """Evaluating the mapped checkpoint matches its clusters again."""
    mIoU = re.compile(r'Iter\(test\).*?mIoU: ([\d.]+)')
    again = run_tool(
        'test.py',
        demo['config'],
        demo['mapped'],
        '--work-dir',
        demo['folder'] / 'test_again',
    )
    assert mIoU.search(again.stdout + again.stderr).group(1) == mIoU.search(
        demo['test_log']
    ).group(1)


@pytest.mark.parametrize('mapped', [False, True])
def test_inferencer_names(demo, mapped, tmp_path):
    checkpoint = demo['mapped'] if mapped else demo['checkpoint']
    inferencer = MMSegInferencer(
        model=demo['config'], weights=checkpoint, device='cpu'
    )
    out = inferencer(demo['image'], return_vis=True, out_dir=str(tmp_path))
    names = inferencer.visualizer.dataset_meta['classes']
    assert tuple(names) == (tuple(CLASSES) if mapped else CLUSTER_NAMES)
    model = init_model(demo['config'], checkpoint, 'cpu')
    expected = inference_model(model, demo['image']).pred_sem_seg.data[0]
    assert np.array_equal(out['predictions'], expected.numpy())
    assert osp.isfile(tmp_path / 'vis' / osp.basename(demo['image']))


@pytest.mark.parametrize('mapped', [False, True])
def test_show_result_pyplot_paints_the_named_labels(demo, mapped, tmp_path):
    checkpoint = demo['mapped'] if mapped else demo['checkpoint']
    model = init_model(demo['config'], checkpoint, 'cpu')
    result = inference_model(model, demo['image'])
    out_file = str(tmp_path / 'shown.png')
    picture = show_result_pyplot(
        model,
        demo['image'],
        result,
        opacity=1.0,
        show=False,
        draw_gt=False,
        with_labels=False,
        out_file=out_file,
    )
    labels = result.pred_sem_seg.data[0].numpy()
    palette = model.dataset_meta['palette']
    label = int(np.bincount(labels.ravel()).argmax())
    pixels = picture[labels == label]
    assert (pixels == palette[label]).all()
    assert mmcv.imread(out_file).shape == picture.shape


def test_mapping_json_beside_a_checkpoint_is_found(demo, tmp_path):
    """A checkpoint without a mapping and a JSON next to it (e.g. copied
    from another evaluation): init_uss_model applies the JSON."""
    checkpoint = str(tmp_path / 'plain.pth')
    shutil.copy(demo['checkpoint'], checkpoint)
    assert (
        init_uss_model(demo['config'], checkpoint).dataset_meta['classes']
        == CLUSTER_NAMES
    )
    shutil.copy(
        mapping_json_path(demo['mapped']), mapping_json_path(checkpoint)
    )
    model = init_uss_model(demo['config'], checkpoint)
    assert model.dataset_meta['classes'] == tuple(CLASSES)


def test_bad_mapping_json_is_refused_naming_the_file(demo, tmp_path):
    bad = tmp_path / 'bad.json'
    record = load_mapping_json(mapping_json_path(demo['mapped']))
    record['cluster_to_class'] = record['cluster_to_class'][:3]
    bad.write_text(json.dumps(record))
    with pytest.raises(ValueError, match='bad.json.*3 entries'):
        init_uss_model(demo['config'], demo['checkpoint'], mapping=str(bad))


def test_only_the_given_checkpoint_is_rewritten(demo):
    """A trained checkpoint holds an empty mapping; the tool rewrote only
    the copy it was given."""
    content = load_checkpoint_file(demo['checkpoint'])
    assert content['state_dict'][MAPPING_STATE_KEY].numel() == 0
    assert 'cluster_mapping' not in content['meta']
    assert not osp.exists(mapping_json_path(demo['checkpoint']))
