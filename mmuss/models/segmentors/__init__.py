# Copyright (c) mmuss contributors. All rights reserved.
from .cluster_naming import ClusterNamingMixin
from .unsupervised_encoder_decoder import UnsupervisedEncoderDecoder

__all__ = ['ClusterNamingMixin', 'UnsupervisedEncoderDecoder']
