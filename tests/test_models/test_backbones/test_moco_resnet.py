# Copyright (c) mmuss contributors. All rights reserved.
import os.path as osp
from unittest import mock

import pytest
import torch
from helpers import (
    REPO_ROOT,
    moco_checkpoint,
    random_torchvision_resnet50,
    torchvision_resnet_last_stage,
)
from mmengine.config import Config
from mmseg.registry import MODELS

from mmuss.models.backbones import MoCoResNet

BASELINE_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'baseline', 'moco-r50_cocostuff27.py'
)


@pytest.fixture(scope='module')
def moco_v2(tmp_path_factory):
    """A random torchvision ResNet-50 and its MoCo v2 checkpoint file."""
    encoder = random_torchvision_resnet50()
    path = tmp_path_factory.mktemp('moco') / 'moco_v2_800ep_pretrain.pth.tar'
    torch.save(moco_checkpoint(encoder), path)
    return encoder, path


def load_moco(path, **kwargs):
    kwargs.setdefault('out_indices', (3,))
    model = MoCoResNet(
        depth=50,
        init_cfg=dict(type='Pretrained', checkpoint=str(path)),
        **kwargs,
    )
    model.init_weights()
    return model.eval()


def test_moco_v2_release_gives_torchvision_features(moco_v2):
    encoder, path = moco_v2
    model = load_moco(path)
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        features = model(images)
        expected = torchvision_resnet_last_stage(encoder, images)
    assert len(features) == 1
    assert features[0].shape == (2, 2048, 2, 2)
    scale = expected.abs().max().item()
    torch.testing.assert_close(
        features[0], expected, rtol=1e-4, atol=1e-5 * scale
    )


def test_config_route_reads_the_official_file(moco_v2):
    """The baseline config, pointed at the official-format file, gives
    torchvision's features of MoCo's input (RGB in [0, 1], ImageNet
    mean/std) from a BGR uint8 image as mmseg loads it."""
    encoder, path = moco_v2
    cfg = Config.fromfile(BASELINE_CONFIG)
    assert cfg.model.backbone.type == 'MoCoResNet'
    assert cfg.model.backbone.init_cfg.checkpoint.endswith(
        'moco_v2_800ep_pretrain.pth.tar'
    )
    cfg.model.backbone.init_cfg.checkpoint = str(path)
    cfg.model.data_preprocessor.size = (64, 64)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()  # the frozen backbone stays in eval mode
    assert not model.backbone.training
    assert not any(p.requires_grad for p in model.backbone.parameters())
    torch.manual_seed(1)
    rgb = torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8)
    data = model.data_preprocessor(dict(inputs=[rgb.flip(0)]), False)
    features = model.extract_feat(data['inputs'])
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    moco_input = ((rgb.float() / 255 - mean) / std)[None]
    with torch.no_grad():
        expected = torchvision_resnet_last_stage(encoder, moco_input)
    assert len(features) == 1
    torch.testing.assert_close(
        features[cfg.model.decode_head.get('in_index', -1)],
        expected,
        rtol=1e-4,
        atol=1e-5 * expected.abs().max().item(),
    )
    assert cfg.model.decode_head.in_channels == expected.shape[1]


@pytest.mark.parametrize(
    'version,prefix,zipfile',
    [(1, 'module.', False), (2, '', True)],
    ids=['v1-legacy-format', 'v2-without-ddp-prefix'],
)
def test_other_moco_layouts_load_the_query_encoder(
    version, prefix, zipfile, tmp_path
):
    encoder = random_torchvision_resnet50(seed=version)
    path = tmp_path / 'moco.pth.tar'
    torch.save(
        moco_checkpoint(encoder, version=version, prefix=prefix),
        path,
        _use_new_zipfile_serialization=zipfile,
    )
    model = load_moco(path)
    expected = {
        k: v for k, v in encoder.state_dict().items() if not k.startswith('fc')
    }
    state = model.state_dict()
    assert set(state) == set(expected)
    for key, value in expected.items():
        assert torch.equal(state[key], value), key


def test_output_stride_8_variant_loads_the_same_weights(moco_v2):
    _, path = moco_v2
    model = load_moco(path, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4))
    with torch.no_grad():
        features = model(torch.randn(1, 3, 64, 64))[0]
    assert features.shape == (1, 2048, 8, 8)


def test_missing_and_unexpected_keys_are_reported(moco_v2, tmp_path):
    encoder, _ = moco_v2
    checkpoint = moco_checkpoint(encoder)
    state = checkpoint['state_dict']
    del state['module.encoder_q.layer4.2.bn3.weight']
    state['module.encoder_q.layer5.0.conv1.weight'] = torch.zeros(1)
    path = tmp_path / 'broken.pth.tar'
    torch.save(checkpoint, path)
    with pytest.raises(KeyError) as error:
        load_moco(path)
    message = str(error.value)
    assert "missing keys ['layer4.2.bn3.weight']" in message
    assert "unexpected keys ['layer5.0.conv1.weight']" in message
    assert str(path) in message
    with mock.patch('mmuss.models.backbones.moco_resnet.print_log') as log:
        load_moco(path, strict_keys=False)
    assert 'layer4.2.bn3.weight' in log.call_args[0][0]
    assert log.call_args[1]['level'] == 30


def test_loaded_checkpoint_logs_what_was_dropped(moco_v2):
    _, path = moco_v2
    with mock.patch('mmuss.models.backbones.moco_resnet.print_log') as log:
        load_moco(path)
    message = log.call_args[0][0]
    # 53 convolutions, 53 BatchNorms x (weight, bias, 3 buffers)
    assert '(318 tensors)' in message
    assert "'encoder_k': 322" in message and "'encoder_q.fc': 4" in message
    assert "'queue': 1" in message and "'queue_ptr': 1" in message


def test_files_that_are_not_moco_checkpoints_are_named(tmp_path):
    flat = tmp_path / 'resnet50-torchvision.pth'
    torch.save(
        {'conv1.weight': torch.zeros(1), 'fc.bias': torch.zeros(1)}, flat
    )
    with pytest.raises(ValueError) as error:
        load_moco(flat)
    assert str(flat) in str(error.value)
    assert 'no "state_dict"' in str(error.value)
    assert "'conv1.weight'" in str(error.value)

    other = tmp_path / 'mmseg-format.pth'
    torch.save(
        {'state_dict': {'backbone.conv1.weight': torch.zeros(1)}}, other
    )
    with pytest.raises(ValueError) as error:
        load_moco(other)
    assert str(other) in str(error.value)
    assert 'encoder_q' in str(error.value)
    assert "'backbone.conv1.weight'" in str(error.value)

    with pytest.raises(FileNotFoundError, match='nowhere.pth.tar'):
        load_moco(tmp_path / 'nowhere.pth.tar')


def test_without_checkpoint_mmseg_initialisation_is_used():
    torch.manual_seed(0)
    model = MoCoResNet(depth=50)
    model.init_weights()
    # mmseg's zero_init_residual: the last BN of every bottleneck is zero
    assert torch.count_nonzero(model.layer1[0].bn3.weight) == 0
    assert model.train() is model


def test_feature_cache_key_follows_weights_not_file_path(moco_v2, tmp_path):
    """The feature cache's backbone fingerprint: the same weights read from
    another path share cached features; other weights do not."""
    from mmuss.models.utils.feature_cache import backbone_fingerprint

    encoder, path = moco_v2
    copy = tmp_path / 'copy.pth.tar'
    copy.write_bytes(path.read_bytes())
    fingerprint = backbone_fingerprint(load_moco(path))
    assert backbone_fingerprint(load_moco(copy)) == fingerprint
    other = tmp_path / 'other.pth.tar'
    torch.save(moco_checkpoint(random_torchvision_resnet50(seed=3)), other)
    assert backbone_fingerprint(load_moco(other)) != fingerprint
