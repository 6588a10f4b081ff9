# Copyright (c) mmuss contributors. All rights reserved.
from abc import ABCMeta, abstractmethod

import torch.nn as nn
from torch import Tensor


class BaseViewGenerator(nn.Module, metaclass=ABCMeta):
    """A view of the batch made inside the model.

    Some methods need a view the data loader cannot make: a learned one
    trained through the frozen backbone (MSSSeg's StructAug), one computed
    from the batch itself (IL2Vseg's invariant view), or several views
    averaged at test time. A view generator maps the batch's images, as
    pixel values in the channel order the model sees (after the data
    preprocessor's colour conversion, before its normalisation), to a view
    of the same shape; the segmentor normalises the view with its own data
    preprocessor and runs the frozen backbone on it. Dense maps and
    modalities stacked onto the image are not passed: views are colour
    images; where a test-time view changes the geometry, the segmentor
    carries the maps along with :meth:`apply_geometry`.

    A head lists generator names in ``required_views`` (their backbone
    features reach ``loss_by_codes`` as ``views``, like data-loader views);
    ``test_cfg.tta_views`` averages predictions over generated views, each
    mapped back to the input geometry by :meth:`invert`.
    """

    @abstractmethod
    def forward(self, images: Tensor) -> Tensor:
        """The view (B, 3, H, W) of pixel values ``images`` (B, 3, H, W)."""

    def apply_geometry(self, maps: Tensor) -> Tensor:
        """The view's geometric change applied to dense maps (B, c, H, W)
        aligned with the image (depth, other modalities), so they stay
        aligned with the view. Identity for photometric views."""
        return maps

    def invert(self, outputs: Tensor) -> Tensor:
        """Map dense outputs (B, K, H, W) computed on the view back to the
        original image's geometry. Identity for photometric views."""
        return outputs
