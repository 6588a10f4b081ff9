# Copyright (c) mmuss contributors. All rights reserved.
"""tools/model_converters/moco2mmseg.py on official-layout MoCo files."""

import os
import sys

import pytest
import torch
from helpers import (
    import_tool,
    moco_checkpoint,
    random_torchvision_resnet50,
    torchvision_resnet_last_stage,
)
from mmseg.models.backbones import ResNet

from mmuss.utils.checkpoint_safety import load_checkpoint_file

converter = import_tool('model_converters/moco2mmseg.py')


@pytest.fixture(scope='module')
def moco_v2(tmp_path_factory):
    """A random torchvision ResNet-50, its MoCo v2 checkpoint (the loaded
    dict) and the file holding it."""
    encoder = random_torchvision_resnet50()
    checkpoint = moco_checkpoint(encoder)
    path = tmp_path_factory.mktemp('moco') / 'moco_v2_800ep_pretrain.pth.tar'
    torch.save(checkpoint, path)
    return encoder, checkpoint, path


def run_main(*args):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, 'argv', ['moco2mmseg.py', *map(str, args)])
        converter.main()


def test_output_loads_into_mmseg_resnet_with_torchvision_features(
    moco_v2, tmp_path, capsys
):
    encoder, _, path = moco_v2
    destination = tmp_path / 'converted' / 'r50_mocov2.pth'
    run_main(path, destination)
    printed = capsys.readouterr().out
    assert 'wrote 318 tensors' in printed
    assert "'encoder_k': 322" in printed and "'encoder_q.fc': 4" in printed
    assert "'queue': 1" in printed and "'queue_ptr': 1" in printed
    assert 'missing' not in printed and 'unexpected' not in printed

    converted = load_checkpoint_file(str(destination))
    resnet = ResNet(depth=50, out_indices=(3,))
    resnet.load_state_dict(converted['state_dict'], strict=True)
    # mmengine's Pretrained init (the config route for converted files)
    loaded = ResNet(
        depth=50,
        out_indices=(3,),
        init_cfg=dict(type='Pretrained', checkpoint=str(destination)),
    )
    loaded.init_weights()
    loaded.eval()  # mmseg's ResNet.train() returns None
    images = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = torchvision_resnet_last_stage(encoder, images)
        features = loaded(images)[0]
    torch.testing.assert_close(
        features, expected, rtol=1e-4, atol=1e-5 * expected.abs().max().item()
    )
    meta = converted['meta']
    assert meta['converted_from'] == path.name  # no local path stored
    assert meta['arch'] == 'resnet50' and meta['epoch'] == 800
    assert not list(destination.parent.glob('.*tmp*'))


def test_rerun_skips_unchanged_source_and_reconverts_a_changed_one(
    moco_v2, tmp_path
):
    encoder, checkpoint, path = moco_v2
    destination = tmp_path / 'r50_mocov2.pth'
    assert not converter.convert(str(path), str(destination))['skipped']
    os.utime(destination, (0, 0))
    assert converter.convert(str(path), str(destination))['skipped']
    assert destination.stat().st_mtime == 0
    assert not converter.convert(str(path), str(destination), force=True)[
        'skipped'
    ]
    # another source at the same place: the stale conversion is redone
    changed = dict(checkpoint, epoch=801)
    other = tmp_path / 'other.pth.tar'
    torch.save(changed, other)
    os.utime(destination, (0, 0))
    assert not converter.convert(str(other), str(destination))['skipped']
    assert load_checkpoint_file(str(destination))['meta']['epoch'] == 801


def test_mismatching_keys_stop_the_conversion(moco_v2, tmp_path):
    _, checkpoint, _ = moco_v2
    state = dict(checkpoint['state_dict'])
    del state['module.encoder_q.layer4.2.bn3.weight']
    state['module.encoder_q.layer1.0.conv1.weight'] = torch.zeros(64, 64, 3, 3)
    state['module.encoder_q.extra.weight'] = torch.zeros(1)
    path = tmp_path / 'broken.pth.tar'
    torch.save(dict(checkpoint, state_dict=state), path)
    destination = tmp_path / 'out.pth'
    with pytest.raises(ValueError) as error:
        converter.convert(str(path), str(destination))
    message = str(error.value)
    assert str(path) in message and 'nothing written' in message
    assert "missing keys ['layer4.2.bn3.weight']" in message
    assert "unexpected keys ['extra.weight']" in message
    assert 'layer1.0.conv1.weight: (64, 64, 3, 3) vs (64, 64, 1, 1)' in message
    assert not destination.exists()
    report = converter.convert(
        str(path), str(destination), allow_mismatch=True
    )
    assert report['missing'] == ['layer4.2.bn3.weight']
    assert report['unexpected'] == ['extra.weight']
    assert destination.exists()


def test_bad_sources_are_named(tmp_path):
    destination = tmp_path / 'out.pth'
    flat = tmp_path / 'resnet50.pth'
    torch.save({'conv1.weight': torch.zeros(1)}, flat)
    with pytest.raises(ValueError, match='no "state_dict"') as error:
        converter.convert(str(flat), str(destination))
    assert str(flat) in str(error.value)
    assert "'conv1.weight'" in str(error.value)

    no_query = tmp_path / 'dino.pth'
    torch.save(
        {
            'state_dict': {
                'module.backbone.blocks.0.norm1.weight': torch.ones(1)
            }
        },
        no_query,
    )
    with pytest.raises(ValueError, match='no MoCo query-encoder') as error:
        converter.convert(str(no_query), str(destination))
    assert str(no_query) in str(error.value)
    assert "'module.backbone.blocks.0.norm1.weight'" in str(error.value)

    resnext = tmp_path / 'moco_resnext.pth.tar'
    torch.save(
        {
            'arch': 'resnext50_32x4d',
            'state_dict': {'module.encoder_q.conv1.weight': torch.zeros(1)},
        },
        resnext,
    )
    with pytest.raises(ValueError, match="arch='resnext50_32x4d'") as error:
        converter.convert(str(resnext), str(destination))
    assert str(resnext) in str(error.value)

    not_a_dict = tmp_path / 'tensor.pth'
    torch.save(torch.zeros(2), not_a_dict)
    with pytest.raises(ValueError, match='holds a Tensor'):
        converter.convert(str(not_a_dict), str(destination))
    assert not destination.exists()


def test_unsafe_source_is_refused(tmp_path):
    """weights_only=True: a pickled object outside the allowlist is refused
    and nothing runs."""
    from mmuss.utils.checkpoint_safety import UnsafeCheckpointError

    path = tmp_path / 'unsafe.pth.tar'
    torch.save({'state_dict': {}, 'args': UnpicklableMarker()}, path)
    with pytest.raises(UnsafeCheckpointError, match='unsafe.pth.tar'):
        converter.convert(str(path), str(tmp_path / 'out.pth'))


class UnpicklableMarker:
    """A class torch.load(weights_only=True) must not rebuild."""
