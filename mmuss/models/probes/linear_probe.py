# Copyright (c) mmuss contributors. All rights reserved.
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class LinearProbe(BaseModule):
    """Supervised linear probe on detached codes (the upper bound).

    STEGO and its successors report, next to the unsupervised cluster probe,
    a 1x1 convolution trained with cross-entropy on the ground truth from the
    *detached* codes. It measures how linearly separable the codes are and
    is the only module in mmuss that sees ground-truth labels; it never
    contributes to the unsupervised prediction.

    Args:
        in_channels (int): Code dimension D.
        num_classes (int): Number of classes C.
        ignore_index (int): Label value excluded from the loss.
            Defaults to 255.
        align_corners (bool): Passed to the upsampling of logits to the
            label size. Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        ignore_index: int = 255,
        align_corners: bool = False,
        init_cfg=None,
    ) -> None:
        super().__init__(init_cfg)
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.align_corners = align_corners
        self.classifier = nn.Conv2d(in_channels, num_classes, kernel_size=1)

    def forward(self, codes: Tensor) -> Tensor:
        """Class logits (B, C, H, W) of codes (B, D, H, W)."""
        return self.classifier(codes)

    def loss(self, codes: Tensor, labels: Tensor) -> Tensor:
        """Cross-entropy of the probe, logits upsampled to the label size.

        Args:
            codes (Tensor): Detached codes (B, D, h, w).
            labels (Tensor): Ground truth (B, H, W), int64.

        Returns:
            Tensor: Scalar loss (0 with a graph if no pixel is labelled).
        """
        logits = F.interpolate(
            self.forward(codes),
            size=labels.shape[-2:],
            mode='bilinear',
            align_corners=self.align_corners,
        )
        if not (labels != self.ignore_index).any():
            return logits.sum() * 0.0
        return F.cross_entropy(logits, labels, ignore_index=self.ignore_index)
