# Copyright (c) mmuss contributors. All rights reserved.
from .unsupervised_encoder_decoder import UnsupervisedEncoderDecoder

__all__ = ['UnsupervisedEncoderDecoder']
