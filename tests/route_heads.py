# Copyright (c) mmuss contributors. All rights reserved.
"""Toy heads, one per route of the platform that the coming methods need
(tests only; imported by the test configs through ``custom_imports``, so
``tools/train.py`` and ``tools/test.py`` build them). Each one's codes
depend on what it declares, so a route that failed to deliver at test
time (whole or sliding-window inference, augmentation) breaks the run,
and each one's loss trains a parameter only that route can reach."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from helpers import ProjectionCodeHead
from mmseg.registry import MODELS

from mmuss.models.decode_heads import BaseCodeHead


def pooled(dense, codes):
    """A dense input averaged onto the code grid."""
    return F.adaptive_avg_pool2d(dense, codes.shape[2:])


@MODELS.register_module(force=True)
class ColourAwareHead(ProjectionCodeHead, BaseCodeHead):
    """The image's pixel values in the head (IL2Vseg's colour cues): codes
    plus a learned projection of the pooled colours; the loss pulls the
    codes' cosine affinity towards the colour affinity."""

    required_inputs = ('pixels',)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.colour_projection = nn.Conv2d(3, self.channels, 1)

    def compute_codes(self, head_inputs):
        codes = self.forward(head_inputs.feats)
        colours = pooled(head_inputs.dense('pixels') / 255, codes)
        return codes + self.colour_projection(colours)

    def loss_by_codes(self, codes, head_inputs):
        colours = pooled(head_inputs.dense('pixels') / 255, codes)
        colours = colours.flatten(2)
        flat = F.normalize(codes.flatten(2), dim=1)
        code_affinity = flat.transpose(1, 2) @ flat
        colour_affinity = torch.exp(
            -torch.cdist(colours.transpose(1, 2), colours.transpose(1, 2))
        )
        return dict(
            loss_colour=(code_affinity - colour_affinity).pow(2).mean()
        )


@MODELS.register_module(force=True)
class DepthAwareHead(ProjectionCodeHead, BaseCodeHead):
    """A dense map in training and at test time (MSSSeg's depth): codes
    plus a learned multiple of the pooled depth; records the dense inputs
    it is given."""

    required_inputs = ('image', 'depth')

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.depth_weight = nn.Parameter(torch.ones(self.channels, 1, 1))
        self.seen_in_codes = []
        self.seen_in_loss = []

    def compute_codes(self, head_inputs):
        self.seen_in_codes.append(
            {
                k: v.detach().clone()
                for k, v in head_inputs.dense_inputs.items()
            }
        )
        codes = self.forward(head_inputs.feats)
        return codes + self.depth_weight * pooled(
            head_inputs.dense('depth'), codes
        )

    def loss_by_codes(self, codes, head_inputs):
        self.seen_in_loss.append(head_inputs.dense_inputs)
        return dict(loss_depth=codes.pow(2).mean())


@MODELS.register_module(force=True)
class LearnedViewHead(ProjectionCodeHead, BaseCodeHead):
    """A view made inside the model by a learned module before the frozen
    backbone (MSSSeg's StructAug): the loss shrinks the view's codes, which
    trains the view generator through the backbone (an identity view is no
    stationary point of it), and pulls the image's codes towards them."""

    required_views = ('learned',)

    def loss_by_codes(self, codes, head_inputs):
        view_codes = self.forward(head_inputs.view('learned'))
        return dict(
            loss_view=view_codes.pow(2).mean()
            + (codes - view_codes.detach()).pow(2).mean()
        )


@MODELS.register_module(force=True)
class TwoModalityHead(ProjectionCodeHead, BaseCodeHead):
    """Two aligned modalities through the shared frozen backbone (UniM2):
    the image's and the second modality's features fused by
    :class:`ModalityFusion`, then projected; records the modality features
    it is given."""

    required_modalities = ('colourmap',)

    def __init__(self, fusion='concat_conv', **kwargs):
        super().__init__(**kwargs)
        self.fusion = MODELS.build(
            dict(
                type='ModalityFusion',
                in_channels=self.in_channels,
                num_modalities=2,
                mode=fusion,
            )
        )
        self.seen_modalities = []

    def compute_codes(self, head_inputs):
        second = head_inputs.modality('colourmap')
        self.seen_modalities.append([f.detach().clone() for f in second])
        fused = self.fusion([head_inputs.feats[-1], second[-1]])
        return self.forward([fused])

    def loss_by_codes(self, codes, head_inputs):
        flat = F.normalize(codes.flatten(2), dim=1)
        # spread the codes: mean pairwise cosine towards zero
        return dict(loss_spread=(flat.transpose(1, 2) @ flat).pow(2).mean())


@MODELS.register_module(force=True)
class DepthPredictingHead(DepthAwareHead):
    """A prediction that needs more than the codes (MSSSeg's depth through
    its decoder): K = 2 clusters, cluster 1 where the pooled depth exceeds
    a threshold, whatever the codes say."""

    predicts_from_inputs = True

    def __init__(self, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.threshold = threshold

    @property
    def num_clusters(self):
        return 2

    def cluster_logits(self, codes):
        raise AssertionError('the prediction needs the depth')

    def cluster_logits_from_inputs(self, codes, head_inputs):
        depth = pooled(head_inputs.dense('depth'), codes)
        deep = (depth > self.threshold).float()
        return torch.cat([1 - deep, deep], dim=1).mul(20).log_softmax(1)


@MODELS.register_module(force=True)
class TestViewHead(ProjectionCodeHead, BaseCodeHead):
    """Averages its codes over generated views inside its prediction
    (MSSSeg's StructAug TTA before its decoder); records how many view
    feature sets each call received."""

    test_views = ('shifted', 'shifted')

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def compute_codes(self, head_inputs):
        self.seen.append(len(head_inputs.test_views))
        codes = [self.forward(head_inputs.feats)]
        codes += [self.forward(v) for v in head_inputs.test_views]
        return torch.stack(codes).mean(0)

    def loss_by_codes(self, codes, head_inputs):
        return dict(loss_codes=codes.pow(2).mean())
