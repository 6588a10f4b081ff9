# Copyright (c) mmuss contributors. All rights reserved.
import copy
import os

import numpy as np
import pytest
import torch
from helpers import (
    TINY_VIT,
    demo_config,
    make_samples,
    run_tool,
    tiny_stego_cfg,
)
from mmengine.structures import PixelData
from mmseg.registry import MODELS

from mmuss.models.utils.feature_cache import (
    CachedBackbone,
    FeatureCache,
    backbone_fingerprint,
    input_key,
)


def tiny_backbone(seed=0):
    torch.manual_seed(seed)
    backbone = MODELS.build(copy.deepcopy(TINY_VIT))
    backbone.init_weights()
    return backbone.eval()


def test_round_trip_and_precision(tmp_path):
    arrays = [torch.randn(4, 3, 3), torch.randn(2, 5, 5)]
    for dtype in ('float16', 'float32'):
        cache = FeatureCache(str(tmp_path / dtype), dtype)
        cache.put('abc', arrays)
        loaded = cache.get('abc')
        assert isinstance(loaded[0], np.memmap)
        for got, expected in zip(loaded, arrays):
            tolerance = 1e-3 if dtype == 'float16' else 0
            np.testing.assert_allclose(
                got, expected.numpy(), atol=tolerance, rtol=tolerance
            )
    assert cache.get('missing') is None and cache.misses == 1


@pytest.mark.parametrize(
    'damage', ['truncate', 'flip_byte', 'magic', 'permuted_shape']
)
def test_damaged_entries_are_detected_and_removed(tmp_path, damage):
    cache = FeatureCache(str(tmp_path))
    cache.put('key', [torch.randn(8, 4, 2)])
    path = cache.path('key')
    data = bytearray(open(path, 'rb').read())
    if damage == 'truncate':
        data = data[:-10]
    elif damage == 'flip_byte':
        data[-5] ^= 0xFF
    elif damage == 'permuted_shape':
        # same element count and payload: only the header changes
        assert b'[8, 4, 2]' in data
        data = data.replace(b'[8, 4, 2]', b'[2, 4, 8]')
    else:
        data[:8] = b'XXXXXXXX'
    open(path, 'wb').write(bytes(data))
    assert cache.get('key') is None
    assert cache.corrupt == 1 and not os.path.exists(path)


def test_keys_follow_input_and_backbone():
    backbone = tiny_backbone(0)
    other = tiny_backbone(1)
    image = torch.randn(3, 32, 32)
    fingerprint = backbone_fingerprint(backbone)
    assert fingerprint == backbone_fingerprint(tiny_backbone(0))
    assert fingerprint != backbone_fingerprint(other)
    key = input_key(image, fingerprint)
    assert key == input_key(image.clone(), fingerprint)
    assert key != input_key(image.flip(-1), fingerprint)
    assert key != input_key(image, backbone_fingerprint(other))
    # a non-RGB modality has its own key space; the image's key is as before
    assert input_key(image, fingerprint, 'hha') != key
    assert input_key(image, fingerprint, 'hha') != input_key(
        image, fingerprint, 'thermal'
    )


def test_fingerprint_follows_settings_not_init_cfg():
    reference = backbone_fingerprint(tiny_backbone(0))
    # same weights, other output (the first block's tokens)
    first_block = MODELS.build(dict(copy.deepcopy(TINY_VIT), out_indices=0))
    first_block.load_state_dict(tiny_backbone(0).state_dict())
    assert backbone_fingerprint(first_block) != reference
    # how the weights got there does not matter, nor its key order
    loaded = tiny_backbone(0)
    loaded.init_cfg = dict(checkpoint='a.pth', type='Pretrained')
    loaded.pretrained_checkpoint = 'a.pth'
    assert backbone_fingerprint(loaded) == reference


def test_fingerprint_hashes_scalar_buffers():
    """CNN backbones hold 0-d tensors (BatchNorm's num_batches_tracked);
    their value is part of the fingerprint."""
    torch.manual_seed(0)
    backbone = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)
    )
    reference = backbone_fingerprint(backbone)
    backbone[1].num_batches_tracked.fill_(5)
    assert backbone_fingerprint(backbone) != reference


def test_cached_backbone_matches_backbone(tmp_path):
    backbone = tiny_backbone()
    cached = CachedBackbone(backbone, FeatureCache(str(tmp_path)))
    inputs = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        expected = backbone(inputs)[0]
    first = cached(inputs)[0]  # misses: computed exactly
    torch.testing.assert_close(first, expected)
    second = cached(inputs)[0]  # hits: float16 storage
    torch.testing.assert_close(second, expected, atol=2e-3, rtol=2e-3)
    assert cached.cache.hits == 3 and cached.cache.misses == 3
    # a changed backbone never reads the old entries
    changed = CachedBackbone(tiny_backbone(1), FeatureCache(str(tmp_path)))
    changed(inputs)
    assert changed.cache.hits == 0


def stego_cfg(cache_dir=None):
    if cache_dir:
        return tiny_stego_cfg(feature_cache=dict(cache_dir=str(cache_dir)))
    return tiny_stego_cfg()


def training_batch(seed):
    generator = torch.Generator().manual_seed(seed)
    samples = make_samples(2, 32, 32, 3, seed=seed)
    for sample in samples:
        sample.knn_img = PixelData(
            data=torch.randint(
                0, 256, (3, 32, 32), dtype=torch.uint8, generator=generator
            )
        )
    inputs = [
        torch.randint(
            0, 256, (3, 32, 32), dtype=torch.uint8, generator=generator
        )
        for _ in samples
    ]
    return dict(inputs=inputs, data_samples=samples)


def train_losses(cfg, batches):
    from mmengine.optim import build_optim_wrapper

    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    model.train()
    optim = build_optim_wrapper(
        model,
        dict(
            optimizer=dict(type='Adam', lr=1e-2),
            constructor='TrainableParamsOptimWrapperConstructor',
        ),
    )
    losses = []
    for step, batch in enumerate(batches):
        torch.manual_seed(100 + step)  # dropout and sampling points
        log = model.train_step(copy.deepcopy(batch), optim)
        losses.append(log['loss'].item())
    return losses, model


def test_training_from_cache_matches_training_from_backbone(tmp_path):
    batches = [training_batch(seed) for seed in range(2)] * 2
    reference, _ = train_losses(stego_cfg(), batches)
    # first run fills the cache (misses computed exactly) ...
    filled, model = train_losses(stego_cfg(tmp_path), batches)
    np.testing.assert_allclose(filled[:2], reference[:2], rtol=1e-6)
    # ... a second run reads every feature from it (float16)
    cached, model = train_losses(stego_cfg(tmp_path), batches)
    assert model.feature_cache.cache.misses == 0
    np.testing.assert_allclose(cached, reference, rtol=2e-2, atol=2e-3)


def test_random_views_bypass_the_cache(tmp_path):
    model = MODELS.build(stego_cfg(tmp_path))
    model.init_weights()
    model.train()
    batch = training_batch(0)
    for sample in batch['data_samples']:
        sample.set_metainfo(dict(random_fields=('knn_img',)))
    model.train_step(batch, _sgd(model))
    entries = sum(len(files) for _, _, files in os.walk(tmp_path))
    assert entries == 2  # the two batch images, not their views


def _sgd(model):
    from mmengine.optim import build_optim_wrapper

    return build_optim_wrapper(
        model,
        dict(
            optimizer=dict(type='SGD', lr=0.0),
            constructor='TrainableParamsOptimWrapperConstructor',
        ),
    )


def test_cache_requires_frozen_backbone(tmp_path):
    cfg = stego_cfg(tmp_path)
    cfg['freeze_backbone'] = False
    with pytest.raises(ValueError, match='freeze_backbone'):
        MODELS.build(cfg)


def test_fill_tool_then_training_hits(tmp_path):
    from mmengine.runner import Runner

    cfg = demo_config(
        tmp_path / 'work', tmp_path / 'data', max_iters=2, val_interval=2
    )
    cfg.model.feature_cache = dict(cache_dir=str(tmp_path / 'cache'))
    # the demo backbone is random but seeded (init_seed), so the fill tool
    # and the runner build the same one
    config = tmp_path / 'cached.py'
    cfg.dump(str(config))
    run_tool(
        'fill_feature_cache.py', config, '--num-workers', 0, '--batch-size', 4
    )
    entries = sum(len(files) for _, _, files in os.walk(tmp_path / 'cache'))
    assert entries == 16 * 2  # both orientations (RandomFlip in pipeline)
    runner = Runner.from_cfg(cfg)
    runner.train()
    cache = runner.model.feature_cache.cache
    assert cache.misses == 0 and cache.hits == 2 * 4


def _write_repeatedly(cache_dir, value, times):
    cache = FeatureCache(cache_dir)
    for _ in range(times):
        cache.put('shared', [torch.full((8, 16, 16), float(value))])


def test_concurrent_writers_never_expose_a_partial_entry(tmp_path):
    import multiprocessing

    context = multiprocessing.get_context('fork')
    writers = [
        context.Process(
            target=_write_repeatedly, args=(str(tmp_path), value, 200)
        )
        for value in (1, 2)
    ]
    for writer in writers:
        writer.start()
    reader = FeatureCache(str(tmp_path))
    seen = set()
    while any(writer.is_alive() for writer in writers):
        entry = reader.get('shared')
        if entry is not None:
            values = np.unique(entry[0])
            assert len(values) == 1  # one writer's whole entry
            seen.add(float(values[0]))
    for writer in writers:
        writer.join()
        assert writer.exitcode == 0
    assert reader.corrupt == 0 and seen <= {1.0, 2.0}
    # no temporary files left behind
    assert [f for _, _, files in os.walk(tmp_path) for f in files] == [
        'shared.feat'
    ]
