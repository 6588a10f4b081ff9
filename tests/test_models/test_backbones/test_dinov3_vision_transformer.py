# Copyright (c) mmuss contributors. All rights reserved.
"""DINOv3VisionTransformer against transformers and timm on tiny random
models saved in the two official key layouts."""

import pytest
import timm
import torch
from timm.models.eva import checkpoint_filter_fn
from transformers import DINOv3ViTConfig, DINOv3ViTModel

from mmuss.models.backbones import (
    DINOv3VisionTransformer,
    ffn_hidden_features,
)

NUM_REGISTERS = 4
SIZES = [(32, 48), (64, 64)]
# tiny archs: (mmuss arch, transformers FFN width, gated)
TINY = {
    'mlp': (
        dict(
            embed_dims=32, num_layers=2, num_heads=2, ffn_ratio=2.0, ffn='mlp'
        ),
        64,
        False,
    ),
    # SwiGLU as in ViT-S+/16: int(32 * 3) = 96, two thirds -> 64
    'swiglu': (
        dict(
            embed_dims=32,
            num_layers=2,
            num_heads=2,
            ffn_ratio=3.0,
            ffn='swiglu',
        ),
        64,
        True,
    ),
}


def random_hf_model(ffn):
    """A transformers DINOv3ViTModel with every weight random (LayerScale
    and norms far from their init so that they matter)."""
    arch, hidden, gated = TINY[ffn]
    config = DINOv3ViTConfig(
        hidden_size=arch['embed_dims'],
        intermediate_size=hidden,
        num_hidden_layers=arch['num_layers'],
        num_attention_heads=arch['num_heads'],
        hidden_act='silu' if gated else 'gelu',
        use_gated_mlp=gated,
        num_register_tokens=NUM_REGISTERS,
        pos_embed_rescale=None,
    )
    torch.manual_seed(0)
    model = DINOv3ViTModel(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith('lambda1'):
                param.uniform_(0.5, 1.5)
            elif 'norm' in name and name.endswith('weight'):
                param.normal_(1.0, 0.2)
            else:
                param.normal_(0.0, 0.1)
    return model


def meta_state_dict(hf_model, key_bias_garbage=0.7):
    """The same weights under facebookresearch/dinov3 module names
    (``dinov3/models/vision_transformer.py``, ``dinov3/layers``): fused
    ``attn.qkv`` with a ``LinearKMaskedBias`` mask (the key third holds
    garbage that the mask zeroes), ``ls1/ls2.gamma``, ``storage_tokens``,
    ``mask_token`` (1, C), ``rope_embed.periods``; SwiGLU as w1/w2/w3."""
    hf = {
        k.replace('model.layer.', 'layer.'): v.detach().clone()
        for k, v in hf_model.state_dict().items()
    }
    channels = hf_model.config.hidden_size
    head_dims = channels // hf_model.config.num_attention_heads
    meta = {
        'cls_token': hf['embeddings.cls_token'],
        'storage_tokens': hf['embeddings.register_tokens'],
        'mask_token': hf['embeddings.mask_token'].reshape(1, channels),
        'patch_embed.proj.weight': hf['embeddings.patch_embeddings.weight'],
        'patch_embed.proj.bias': hf['embeddings.patch_embeddings.bias'],
        'rope_embed.periods': 100.0
        ** (2 * torch.arange(head_dims // 4) / (head_dims // 2)),
        'norm.weight': hf['norm.weight'],
        'norm.bias': hf['norm.bias'],
    }
    mlp_names = (
        {'gate_proj': 'w1', 'up_proj': 'w2', 'down_proj': 'w3'}
        if hf_model.config.use_gated_mlp
        else {'up_proj': 'fc1', 'down_proj': 'fc2'}
    )
    for i in range(hf_model.config.num_hidden_layers):
        src, dst = f'layer.{i}.', f'blocks.{i}.'
        attn = src + 'attention.'
        meta[dst + 'attn.qkv.weight'] = torch.cat(
            [hf[attn + f'{p}_proj.weight'] for p in 'qkv']
        )
        meta[dst + 'attn.qkv.bias'] = torch.cat(
            [
                hf[attn + 'q_proj.bias'],
                torch.full((channels,), key_bias_garbage),
                hf[attn + 'v_proj.bias'],
            ]
        )
        meta[dst + 'attn.qkv.bias_mask'] = torch.cat(
            [torch.ones(channels), torch.zeros(channels), torch.ones(channels)]
        )
        for kind in ('weight', 'bias'):
            meta[dst + f'attn.proj.{kind}'] = hf[attn + f'o_proj.{kind}']
            meta[dst + f'norm1.{kind}'] = hf[src + f'norm1.{kind}']
            meta[dst + f'norm2.{kind}'] = hf[src + f'norm2.{kind}']
            for hf_name, meta_name in mlp_names.items():
                meta[dst + f'mlp.{meta_name}.{kind}'] = hf[
                    src + f'mlp.{hf_name}.{kind}'
                ]
        meta[dst + 'ls1.gamma'] = hf[src + 'layer_scale1.lambda1']
        meta[dst + 'ls2.gamma'] = hf[src + 'layer_scale2.lambda1']
    return meta


def hf_features(hf_model, images):
    """Patch tokens of transformers' last_hidden_state as (B, C, h, w)."""
    with torch.no_grad():
        tokens = hf_model(pixel_values=images).last_hidden_state
    return to_map(tokens, images)


def to_map(tokens, images):
    height, width = images.shape[2] // 16, images.shape[3] // 16
    patches = tokens[:, 1 + NUM_REGISTERS :]
    return patches.transpose(1, 2).reshape(len(images), -1, height, width)


def timm_features(meta, ffn, images):
    """timm's DINOv3 (qkv-bias variant) loaded from the Meta-layout dict by
    timm's own converter: an independent reading of the official keys."""
    arch, hidden, _ = TINY[ffn]
    name = (
        'vit_small_plus_patch16_dinov3_qkvb'
        if ffn == 'swiglu'
        else 'vit_small_patch16_dinov3_qkvb'
    )
    model = timm.create_model(
        name,
        pretrained=False,
        num_classes=0,
        embed_dim=arch['embed_dims'],
        depth=arch['num_layers'],
        num_heads=arch['num_heads'],
        mlp_ratio=hidden / arch['embed_dims'],
    ).eval()
    model.load_state_dict(checkpoint_filter_fn(dict(meta), model))
    with torch.no_grad():
        return to_map(model.forward_features(images), images)


def load_mmuss(path, ffn='mlp', **kwargs):
    model = DINOv3VisionTransformer(
        arch=TINY[ffn][0],
        init_cfg=dict(type='Pretrained', checkpoint=str(path)),
        **kwargs,
    )
    model.init_weights()
    return model.eval()


def mmuss_features(model, images):
    with torch.no_grad():
        outs = model(images)
    assert len(outs) == 1
    return outs[0]


@pytest.fixture(scope='module', params=['mlp', 'swiglu'])
def release(request, tmp_path_factory):
    """A tiny random model, its HF folder and its Meta ``.pth`` file."""
    ffn = request.param
    hf_model = random_hf_model(ffn)
    folder = tmp_path_factory.mktemp(f'dinov3_{ffn}')
    hf_model.save_pretrained(folder / 'hf')
    meta = meta_state_dict(hf_model)
    torch.save(meta, folder / 'dinov3_vits16_pretrain_lvd1689m-tiny.pth')
    return dict(
        ffn=ffn,
        hf_model=hf_model,
        meta=meta,
        hf_dir=folder / 'hf',
        meta_path=folder / 'dinov3_vits16_pretrain_lvd1689m-tiny.pth',
    )


@pytest.mark.parametrize('size', SIZES, ids=lambda s: f'{s[0]}x{s[1]}')
def test_hugging_face_layout_gives_transformers_features(release, size):
    torch.manual_seed(1)
    images = torch.randn(2, 3, *size)
    expected = hf_features(release['hf_model'], images)
    for path in (release['hf_dir'], release['hf_dir'] / 'model.safetensors'):
        model = load_mmuss(path, release['ffn'])
        features = mmuss_features(model, images)
        assert features.shape == (2, 32, size[0] // 16, size[1] // 16)
        torch.testing.assert_close(features, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('size', SIZES, ids=lambda s: f'{s[0]}x{s[1]}')
def test_meta_layout_gives_transformers_and_timm_features(release, size):
    torch.manual_seed(2)
    images = torch.randn(2, 3, *size)
    model = load_mmuss(release['meta_path'], release['ffn'])
    features = mmuss_features(model, images)
    reference = timm_features(release['meta'], release['ffn'], images)
    torch.testing.assert_close(
        features,
        hf_features(release['hf_model'], images),
        atol=1e-5,
        rtol=1e-5,
    )
    torch.testing.assert_close(features, reference, atol=1e-5, rtol=1e-5)


def test_meta_layout_under_training_wrappers(release, tmp_path):
    wrapped = {f'module.backbone.{k}': v for k, v in release['meta'].items()}
    path = tmp_path / 'checkpoint.pth'
    torch.save(dict(teacher=wrapped, iteration=3), path)
    images = torch.randn(1, 3, 32, 32)
    torch.testing.assert_close(
        mmuss_features(load_mmuss(path, release['ffn']), images),
        hf_features(release['hf_model'], images),
        atol=1e-5,
        rtol=1e-5,
    )


def test_intermediate_blocks_go_through_the_final_norm(release):
    hf_model = release['hf_model']
    model = load_mmuss(release['hf_dir'], release['ffn'], out_indices=(0, -1))
    images = torch.randn(1, 3, 48, 32)
    with torch.no_grad():
        first, last = model(images)
        output = hf_model(pixel_values=images, output_hidden_states=True)
        # the official get_intermediate_layers(norm=True): final norm
        expected = to_map(hf_model.norm(output.hidden_states[1]), images)
    torch.testing.assert_close(first, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(
        last, to_map(output.last_hidden_state, images), atol=1e-5, rtol=1e-5
    )


def test_nonzero_effective_key_bias_is_refused(release, tmp_path):
    meta = dict(release['meta'])
    meta['blocks.1.attn.qkv.bias_mask'] = torch.ones_like(
        meta['blocks.1.attn.qkv.bias_mask']
    )
    path = tmp_path / 'unmasked.pth'
    torch.save(meta, path)
    with pytest.raises(ValueError, match=r'blocks\.1\.attn\.qkv\.bias'):
        load_mmuss(path, release['ffn'])


def test_wrong_head_count_is_caught_by_the_rope_periods(release):
    arch = dict(TINY[release['ffn']][0], num_heads=4)
    model = DINOv3VisionTransformer(
        arch=arch,
        init_cfg=dict(type='Pretrained', checkpoint=str(release['meta_path'])),
    )
    with pytest.raises(ValueError, match='rope_embed.periods'):
        model.init_weights()


def test_missing_keys_raise_or_warn(release, tmp_path):
    meta = dict(release['meta'])
    del meta['blocks.0.norm2.weight']
    meta['head.weight'] = torch.zeros(2, 32)  # dropped, not unexpected
    meta['extra_tensor'] = torch.zeros(1)
    path = tmp_path / 'incomplete.pth'
    torch.save(meta, path)
    with pytest.raises(KeyError) as error:
        load_mmuss(path, release['ffn'])
    message = str(error.value)
    assert 'model.layer.0.norm2.weight' in message
    assert 'extra_tensor' in message and 'head.weight' not in message
    assert 'incomplete.pth' in message
    model = load_mmuss(path, release['ffn'], strict_keys=False)
    torch.testing.assert_close(
        model.vit.norm.weight, release['meta']['norm.weight']
    )


def test_unknown_layout_names_the_file(tmp_path):
    path = tmp_path / 'dinov2_vits14_pretrain.pth'
    torch.save({'blocks.0.attn.qkv.weight_x': torch.zeros(3)}, path)
    with pytest.raises(ValueError, match='dinov2_vits14_pretrain.pth'):
        load_mmuss(path)


def test_input_size_not_divisible_by_16_names_the_size():
    model = DINOv3VisionTransformer(arch=TINY['mlp'][0]).eval()
    with pytest.raises(ValueError, match='33x48'):
        model(torch.randn(1, 3, 33, 48))


def test_train_mode_keeps_features_unless_rope_rescale_is_set(release):
    images = torch.randn(1, 3, 32, 32)
    model = load_mmuss(release['hf_dir'], release['ffn'])
    expected = mmuss_features(model, images)
    torch.testing.assert_close(mmuss_features(model.train(), images), expected)
    augmented = load_mmuss(
        release['hf_dir'], release['ffn'], rope_rescale=2.0
    ).train()
    torch.manual_seed(3)
    assert not torch.allclose(mmuss_features(augmented, images), expected)


def test_ffn_hidden_features_follow_the_official_rules():
    assert ffn_hidden_features(384, 4.0, 'mlp') == 1536
    assert ffn_hidden_features(384, 6.0, 'swiglu') == 1536  # ViT-S+/16
    assert ffn_hidden_features(1024, 6.0, 'swiglu') == 4096  # ViT-L+/16
    assert ffn_hidden_features(100, 1.0, 'swiglu') == 72  # 66 -> 72
    with pytest.raises(ValueError, match='geglu'):
        ffn_hidden_features(8, 1.0, 'geglu')


@pytest.mark.parametrize(
    'arch,timm_name',
    [
        ('small', 'vit_small_patch16_dinov3_qkvb'),
        ('small-plus', 'vit_small_plus_patch16_dinov3_qkvb'),
        ('base', 'vit_base_patch16_dinov3_qkvb'),
        ('large', 'vit_large_patch16_dinov3_qkvb'),
    ],
)
def test_official_archs_match_timm(arch, timm_name):
    """Same tensors (transformers adds the (1, 1, C) mask token) and heads
    as timm's definition of each release."""
    with torch.device('meta'):
        ours = DINOv3VisionTransformer(arch=arch)
        reference = timm.create_model(timm_name, num_classes=0)
    count = sum(p.numel() for p in ours.parameters())
    expected = sum(p.numel() for p in reference.parameters())
    assert count - ours.embed_dims == expected
    assert ours.vit.config.num_attention_heads == (
        reference.blocks[0].attn.num_heads
    )
    assert len(ours.vit.model.layer) == len(reference.blocks)


def test_unknown_arch_lists_the_choices():
    with pytest.raises(ValueError, match="'small-plus'"):
        DINOv3VisionTransformer(arch='huge')


def test_segmentor_trains_and_predicts_on_the_loaded_backbone(release):
    """Built from a config, loaded by the segmentor's init_weights, frozen:
    a training step moves the probes only; prediction gives label maps."""
    from helpers import make_samples, tiny_segmentor_cfg
    from mmengine.optim import OptimWrapper
    from mmseg.registry import MODELS

    cfg = tiny_segmentor_cfg(
        backbone=dict(
            type='DINOv3VisionTransformer',
            arch=TINY[release['ffn']][0],
            init_cfg=dict(
                type='Pretrained', checkpoint=str(release['hf_dir'])
            ),
        )
    )
    segmentor = MODELS.build(cfg)
    segmentor.init_weights()
    backbone = segmentor.backbone
    torch.testing.assert_close(
        backbone.vit.norm.weight, release['hf_model'].norm.weight
    )
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    clusters = segmentor.cluster_probe.clusters.detach().clone()
    data = dict(
        inputs=[torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8)] * 2,
        data_samples=make_samples(2, 32, 32, 3),
    )
    optim = OptimWrapper(torch.optim.Adam(segmentor.parameters(), lr=0.1))
    log_vars = segmentor.train_step(data, optim)
    assert torch.isfinite(log_vars['loss'])
    for key, value in backbone.state_dict().items():
        torch.testing.assert_close(value, before[key])
    assert not torch.equal(segmentor.cluster_probe.clusters, clusters)
    predictions = segmentor.test_step(data)
    assert predictions[0].pred_sem_seg.data.shape == (1, 32, 32)
