# Copyright (c) mmuss contributors. All rights reserved.
import torch
from helpers import make_samples, tiny_segmentor_cfg
from mmseg.registry import MODELS

from mmuss.models.utils import mapping_record

CLASSES = ('a', 'b', 'c')
PALETTE = [[255, 0, 0], [0, 255, 0], [0, 0, 255]]


def build(**overrides):
    torch.manual_seed(0)
    return MODELS.build(tiny_segmentor_cfg(num_clusters=4, **overrides)).eval()


def test_pretrained_none_is_accepted_as_init_model_passes_it():
    model = build(pretrained=None)
    assert model.num_clusters == 4


def test_names_are_clusters_until_a_mapping_is_stored():
    model = build()
    model.dataset_meta = dict(classes=CLASSES, palette=PALETTE)
    assert model.dataset_meta['classes'] == (
        'cluster 0',
        'cluster 1',
        'cluster 2',
        'cluster 3',
    )
    assert set(model.dataset_meta) == {'classes', 'palette'}
    assert model.class_meta == dict(classes=CLASSES, palette=PALETTE)
    inputs = torch.rand(2, 3, 32, 32) * 255
    plain = model.predict(inputs, make_samples(2, 32, 32, 3))
    assert 'pred_cluster_sem_seg' not in plain[0]

    record = mapping_record([2, 0, -1, 1], CLASSES, PALETTE, 'error')
    model.cluster_mapping.set_record(record)
    assert model.dataset_meta == dict(classes=CLASSES, palette=PALETTE)
    mapped = model.predict(inputs, make_samples(2, 32, 32, 3))
    lookup = torch.tensor([2, 0, 255, 1])
    for before, after in zip(plain, mapped):
        clusters = before.pred_sem_seg.data
        assert torch.equal(after.pred_cluster_sem_seg.data, clusters)
        assert torch.equal(after.pred_sem_seg.data, lookup[clusters])

    # the mapping travels in the state dict; a state dict without it
    # (older checkpoints) leaves a model unmapped
    restored = build()
    restored.load_state_dict(model.state_dict())
    assert restored.cluster_mapping.record == record
    old = {
        k: v
        for k, v in build().state_dict().items()
        if not k.startswith('cluster_mapping')
    }
    result = build().load_state_dict(old, strict=False)
    assert result.missing_keys == ['cluster_mapping._extra_state']
