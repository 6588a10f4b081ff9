# Copyright (c) mmuss contributors. All rights reserved.
import io

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmuss.models.utils import (
    UNMATCHED_LABEL,
    ClusterMapping,
    check_mapping_record,
    cluster_names,
    cluster_palette,
    mapping_record,
)

CLASSES = ['sky', 'road', 'car']
PALETTE = [[0, 0, 255], [128, 128, 128], [255, 0, 0]]


def record(cluster_to_class=(2, 0, -1, 1, -2)):
    return mapping_record(cluster_to_class, CLASSES, PALETTE, 'drop')


def test_cluster_names_and_distinct_palette():
    assert cluster_names(3) == ['cluster 0', 'cluster 1', 'cluster 2']
    palette = cluster_palette(27)
    assert len({tuple(c) for c in palette}) == 27
    assert all(0 <= v <= 255 for colour in palette for v in colour)


def test_relabel_maps_clusters_to_classes_and_keeps_clusters():
    mapping = ClusterMapping(5)
    mapping.set_record(record())
    clusters = torch.tensor([[[0, 1, 2], [3, 4, 0]]])
    sample = SegDataSample(pred_sem_seg=PixelData(data=clusters))
    mapping.relabel(sample)
    # cluster 0 -> car (2), 1 -> sky (0), 2 and 4 unmatched, 3 -> road (1)
    expected = [[[2, 0, UNMATCHED_LABEL], [1, UNMATCHED_LABEL, 2]]]
    assert sample.pred_sem_seg.data.tolist() == expected
    assert torch.equal(sample.pred_cluster_sem_seg.data, clusters)
    assert mapping.label_meta() == dict(
        classes=tuple(CLASSES), palette=PALETTE
    )


def test_without_mapping_nothing_changes_and_names_are_clusters():
    mapping = ClusterMapping(4)
    sample = SegDataSample(pred_sem_seg=PixelData(data=torch.ones(1, 2, 2)))
    mapping.relabel(sample)
    assert 'pred_cluster_sem_seg' not in sample
    assert mapping.label_meta()['classes'] == tuple(cluster_names(4))


def test_mapping_survives_a_weights_only_checkpoint():
    mapping = ClusterMapping(5)
    mapping.set_record(record())
    buffer = io.BytesIO()
    torch.save(mapping.state_dict(), buffer)
    buffer.seek(0)
    restored = ClusterMapping(5)
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    assert restored.record == record()
    empty = ClusterMapping(5)
    restored.load_state_dict(empty.state_dict())
    assert not restored.is_set


@pytest.mark.parametrize(
    'change, message',
    [
        (dict(cluster_to_class=[0, 1, 3, 2, 2]), 'outside \\[0, 3\\)'),
        (dict(palette=PALETTE[:2]), '2 palette colours for 3 classes'),
        (dict(cluster_to_class=[0, 1, 2]), '3 entries but the model has 5'),
    ],
)
def test_bad_records_are_refused_naming_the_fault(change, message):
    bad = dict(record(), **change)
    with pytest.raises(ValueError, match=message):
        check_mapping_record(bad, num_clusters=5)
    with pytest.raises(ValueError, match="lacks the key 'classes'"):
        check_mapping_record({'cluster_to_class': [], 'palette': []})
