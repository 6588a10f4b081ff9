# Copyright (c) mmuss contributors. All rights reserved.
"""tools/model_converters/dinov3_to_mmuss.py on tiny official-layout files."""

import json
import sys

import pytest
import torch
from helpers import import_tool
from test_models.test_backbones.test_dinov3_vision_transformer import (
    TINY,
    hf_features,
    load_mmuss,
    meta_state_dict,
    mmuss_features,
    random_hf_model,
)

from mmuss.utils.checkpoint_safety import load_checkpoint_file

converter = import_tool('model_converters/dinov3_to_mmuss.py')
ARCH = TINY['mlp'][0]


@pytest.fixture(scope='module')
def release(tmp_path_factory):
    hf_model = random_hf_model('mlp')
    folder = tmp_path_factory.mktemp('dinov3')
    hf_model.save_pretrained(folder / 'hf')
    meta_path = folder / 'dinov3_vits16_pretrain_lvd1689m-tiny.pth'
    torch.save(meta_state_dict(hf_model), meta_path)
    return hf_model, meta_path, folder / 'hf'


def run_main(*args):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, 'argv', ['dinov3_to_mmuss.py', *map(str, args)])
        converter.main()


@pytest.mark.parametrize('layout', ['meta', 'hf'])
def test_output_loads_into_the_backbone_with_the_reference_features(
    release, tmp_path, capsys, layout
):
    hf_model, meta_path, hf_dir = release
    src = meta_path if layout == 'meta' else hf_dir
    dst = tmp_path / 'out' / 'dinov3_tiny.pth'
    run_main(src, dst, '--arch', json.dumps(ARCH))
    printed = capsys.readouterr().out
    assert f'{layout} layout' in printed and 'wrote 41 tensors' in printed
    if layout == 'meta':
        assert 'rope_embed.periods' in printed
    converted = load_checkpoint_file(str(dst))  # weights_only=True
    assert converted['meta']['converted_from'] == src.name
    assert converted['meta']['source_layout'] == layout
    assert 'layer.1.attention.k_proj.weight' in converted['state_dict']
    images = torch.randn(1, 3, 32, 48)
    torch.testing.assert_close(
        mmuss_features(load_mmuss(dst), images),
        hf_features(hf_model, images),
        atol=1e-5,
        rtol=1e-5,
    )
    assert not list(dst.parent.glob('.*tmp*'))


def test_rerun_skips_unchanged_source_and_force_reconverts(release, tmp_path):
    _, meta_path, _ = release
    dst = str(tmp_path / 'dinov3_tiny.pth')
    assert not converter.convert(str(meta_path), dst, ARCH)['skipped']
    assert converter.convert(str(meta_path), dst, ARCH)['skipped']
    assert not converter.convert(str(meta_path), dst, ARCH, force=True)[
        'skipped'
    ]


def test_custom_width_needs_an_arch_and_a_mismatch_writes_nothing(
    release, tmp_path
):
    _, meta_path, _ = release
    dst = tmp_path / 'dinov3_tiny.pth'
    with pytest.raises(ValueError, match='pass --arch'):
        converter.convert(str(meta_path), str(dst))
    wider = dict(ARCH, ffn_ratio=4.0)
    with pytest.raises(ValueError, match='mismatched keys') as error:
        converter.convert(str(meta_path), str(dst), wider)
    assert 'layer.0.mlp.up_proj.weight: (64, 32) vs (128, 32)' in str(
        error.value
    )
    assert not dst.exists()
    report = converter.convert(
        str(meta_path), str(dst), wider, allow_mismatch=True
    )
    assert len(report['mismatched']) == 6 and dst.exists()


def test_official_arch_is_inferred_from_the_tensors():
    state_dict = {
        'embeddings.cls_token': torch.zeros(1, 1, 384),
        **{f'layer.{i}.mlp.gate_proj.weight': None for i in range(12)},
    }
    assert converter.infer_official_arch(state_dict, 'x') == 'small-plus'
    state_dict = {
        'embeddings.cls_token': torch.zeros(1, 1, 1024),
        **{f'layer.{i}.mlp.up_proj.weight': None for i in range(24)},
    }
    assert converter.infer_official_arch(state_dict, 'x') == 'large'
