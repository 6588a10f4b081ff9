# Copyright (c) mmuss contributors. All rights reserved.
import json
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmcv import imread

from mmuss.evaluation import HungarianIoUMetric, hungarian_scores
from mmuss.evaluation.functional import confusion_matrix

CLASSES = ('a', 'b', 'c')
PALETTE = [[255, 0, 0], [0, 255, 0], [0, 0, 255]]


def fake_sample(seed, num_clusters=4, size=(6, 5), with_linear=True):
    """A data sample as the evaluator passes it (a dict)."""
    generator = torch.Generator().manual_seed(seed)
    gt = torch.randint(0, 3, (1, *size), generator=generator)
    gt[0, 0, 0] = 255
    pred = (gt + 1) % num_clusters
    flip = torch.rand(size, generator=generator) < 0.3
    pred[0][flip] = torch.randint(
        0, num_clusters, (int(flip.sum()),), generator=generator
    )
    sample = dict(
        img_path=f'images/{seed:03d}.png',
        seg_map_path=f'annotations/{seed:03d}.png',
        gt_sem_seg=dict(data=gt),
        pred_sem_seg=dict(data=pred),
        seg_logits=dict(data=torch.zeros(num_clusters, *size)),
    )
    if with_linear:
        sample['pred_linear_sem_seg'] = dict(data=gt.clamp(0, 2))
    return sample


def fake_batch(samples):
    height, width = samples[0]['gt_sem_seg']['data'].shape[-2:]
    return dict(
        inputs=[
            torch.full((3, height, width), 100, dtype=torch.uint8)
            for _ in samples
        ]
    )


def build_metric(**kwargs):
    metric = HungarianIoUMetric(**kwargs)
    metric.dataset_meta = dict(classes=CLASSES, palette=PALETTE)
    return metric


def expected_scores(samples):
    hist = sum(
        confusion_matrix(
            s['pred_sem_seg']['data'], s['gt_sem_seg']['data'], 4, 3
        ).numpy()
        for s in samples
    )
    return hungarian_scores(hist, 'majority')


def test_metric_matches_functional_and_reports_linear(tmp_path):
    samples = [fake_sample(i) for i in range(6)]
    metric = build_metric(output_dir=str(tmp_path), num_vis_samples=2)
    metric.process(fake_batch(samples[:3]), samples[:3])
    metric.process(fake_batch(samples[3:]), samples[3:])
    results = metric.evaluate(6)
    expected = expected_scores(samples)
    assert results['mIoU'] == pytest.approx(round(expected['mIoU'] * 100, 2))
    assert results['aAcc'] == pytest.approx(round(expected['aAcc'] * 100, 2))
    # linear prediction equals the clamped ground truth: perfect scores
    assert results['linear_aAcc'] == 100.0
    assert results['linear_mIoU'] == 100.0
    report = json.load(open(tmp_path / 'hungarian_metrics.json'))
    assert report['assignment'] == expected['assignment'].tolist()
    assert report['metrics']['mIoU'] == results['mIoU']
    assert set(report['per_class_iou']) == set(CLASSES)
    pictures = sorted(os.listdir(tmp_path / 'vis'))
    assert pictures == ['000.png', '001.png']
    panel = imread(str(tmp_path / 'vis' / '000.png'), channel_order='rgb')
    scale = 256 // 6
    # image | ground truth | prediction, then a gap and the legend
    assert panel.shape[0] == 6 * scale
    assert panel.shape[1] > (3 * 5 + 2 * 4) * scale + 4
    # middle panel: ground truth painted with the palette (pixel 0,0 is
    # ignore -> black)
    gt = samples[0]['gt_sem_seg']['data'][0]
    gt_panel = panel[::scale, (5 + 4) * scale :: scale][:, :5]
    assert (gt_panel[0, 0] == 0).all()
    assert (gt_panel[2, 3] == PALETTE[int(gt[2, 3])]).all()


def test_metric_offline_pictures_from_img_path(tmp_path, monkeypatch):
    """Outside the runner the batch has no inputs: the picture is read from
    img_path; without a readable image, one warning and no pictures."""
    import numpy as np
    from mmcv import imwrite

    samples = [fake_sample(i) for i in range(2)]
    image = np.zeros((6, 5, 3), np.uint8)
    image[..., 0] = 200  # red in RGB
    image_path = tmp_path / 'img.png'
    imwrite(image[..., ::-1], str(image_path))  # mmcv writes BGR
    samples[0]['img_path'] = str(image_path)
    samples[1]['img_path'] = str(tmp_path / 'missing.png')
    out = tmp_path / 'out'
    metric = build_metric(output_dir=str(out), num_vis_samples=2)
    messages = []
    monkeypatch.setattr(
        'mmuss.evaluation.metrics.hungarian_iou_metric.print_log',
        lambda message, **kwargs: messages.append(message),
    )
    metric.process({}, samples)
    metric.process(dict(data_samples=samples), samples)
    results = metric.evaluate(4)
    assert results['mIoU'] == pytest.approx(
        round(expected_scores(samples * 2)['mIoU'] * 100, 2)
    )
    assert sorted(os.listdir(out / 'vis')) == ['img.png']
    panel = imread(str(out / 'vis' / 'img.png'), channel_order='rgb')
    assert (panel[0, 0] == [200, 0, 0]).all()  # the image column
    warned = [m for m in messages if 'pictures are skipped' in m]
    assert len(warned) == 1 and 'missing.png' in warned[0]


def test_metric_pictures_use_the_colour_channels_of_stacked_inputs(tmp_path):
    """Inputs with a dense map stacked after the image (LoadDenseMap)."""
    samples = [fake_sample(0)]
    inputs = torch.zeros(4, 6, 5)
    inputs[2] = 200.0  # red in BGR
    inputs[3] = 7.5  # depth
    metric = build_metric(output_dir=str(tmp_path), num_vis_samples=1)
    metric.process(dict(inputs=[inputs]), samples)
    metric.evaluate(1)
    panel = imread(str(tmp_path / 'vis' / '000.png'), channel_order='rgb')
    assert (panel[0, 0] == [200, 0, 0]).all()


def test_metric_picture_legend_names_the_classes_shown(tmp_path):
    """The legend right of the panels holds a swatch of each class present
    in ground truth or matched prediction, and nothing else."""
    from mmuss.visualization import legend_entries, render_legend

    gt = torch.tensor([[[0, 0, 1, 1, 1]] * 6])  # classes a and b only
    sample = dict(
        img_path='images/000.png',
        gt_sem_seg=dict(data=gt),
        pred_sem_seg=dict(data=gt.clone()),
        seg_logits=dict(data=torch.zeros(3, 6, 5)),
    )
    metric = build_metric(output_dir=str(tmp_path), num_vis_samples=1)
    metric.process(fake_batch([sample]), [sample])
    metric.evaluate(1)
    panel = imread(str(tmp_path / 'vis' / '000.png'), channel_order='rgb')
    scale = 256 // 6
    legend = panel[:, (3 * 5 + 2 * 4) * scale + 4 :]
    expected = render_legend([(None, [('a', PALETTE[0]), ('b', PALETTE[1])])])
    assert legend.shape[1] == expected.shape[1]
    assert (legend[: expected.shape[0]] == expected).all()
    assert legend_entries(gt.numpy(), CLASSES, PALETTE) == [
        ('a', (255, 0, 0)),
        ('b', (0, 255, 0)),
    ]


def test_metric_matches_clusters_of_an_already_mapped_model():
    """A model carrying a mapping predicts classes in pred_sem_seg and its
    clusters in pred_cluster_sem_seg: the metric matches the clusters."""
    samples = [fake_sample(i) for i in range(3)]
    mapped = []
    for sample in samples:
        sample = dict(sample)
        sample['pred_cluster_sem_seg'] = sample['pred_sem_seg']
        sample['pred_sem_seg'] = dict(
            data=torch.zeros_like(sample['pred_cluster_sem_seg']['data'])
        )
        mapped.append(sample)
    metric = build_metric()
    metric.process({}, mapped)
    results = metric.evaluate(3)
    expected = expected_scores(samples)
    assert results['mIoU'] == pytest.approx(round(expected['mIoU'] * 100, 2))


def test_metric_without_linear_probe_and_explicit_clusters():
    samples = [fake_sample(i, with_linear=False) for i in range(3)]
    for sample in samples:
        del sample['seg_logits']
    metric = build_metric(num_clusters=4)
    metric.process(fake_batch(samples), samples)
    results = metric.evaluate(3)
    assert 'linear_mIoU' not in results
    assert results['mIoU'] == pytest.approx(
        round(expected_scores(samples)['mIoU'] * 100, 2)
    )


def test_metric_needs_cluster_count():
    sample = fake_sample(0)
    del sample['seg_logits']
    metric = build_metric()
    with pytest.raises(ValueError, match='number of clusters'):
        metric.process(fake_batch([sample]), [sample])


def test_metric_rejects_label_out_of_range_naming_file():
    sample = fake_sample(7)
    sample['gt_sem_seg']['data'][0, 1, 1] = 9
    metric = build_metric()
    with pytest.raises(ValueError, match=r'\[9\] in annotations/007.png'):
        metric.process(fake_batch([sample]), [sample])


def test_metric_rejects_fewer_clusters_than_classes():
    sample = fake_sample(1, num_clusters=4)
    sample['seg_logits'] = dict(data=torch.zeros(2, 6, 5))
    sample['pred_sem_seg']['data'] %= 2
    metric = build_metric()
    with pytest.raises(ValueError, match='2 clusters'):
        metric.process(fake_batch([sample]), [sample])


def test_metric_policy_is_validated():
    with pytest.raises(ValueError, match='extra_cluster_policy'):
        HungarianIoUMetric(extra_cluster_policy='nearest')


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _evaluate_on_rank(rank, world_size, port, num_samples, queue):
    dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=world_size,
    )
    samples = [fake_sample(i) for i in range(num_samples)]
    # DefaultSampler: rank r gets r, r + world, ...; padded by repetition.
    total = -(-num_samples // world_size) * world_size
    indices = (list(range(num_samples)) * 2)[:total][rank::world_size]
    metric = build_metric()
    for index in indices:
        metric.process(fake_batch([samples[index]]), [samples[index]])
    results = metric.evaluate(num_samples)
    queue.put((rank, results))
    dist.destroy_process_group()


def test_metric_collects_across_ranks_like_one_process():
    num_samples = 7  # odd: rank 1 receives a padded duplicate
    samples = [fake_sample(i) for i in range(num_samples)]
    single = build_metric()
    single.process(fake_batch(samples), samples)
    expected = single.evaluate(num_samples)
    context = mp.get_context('spawn')
    queue = context.Queue()
    port = _free_port()
    processes = [
        context.Process(
            target=_evaluate_on_rank, args=(rank, 2, port, num_samples, queue)
        )
        for rank in range(2)
    ]
    for process in processes:
        process.start()
    results = dict(queue.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert results[0] == expected
    assert results[1] == expected
