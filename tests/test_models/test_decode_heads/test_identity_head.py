# Copyright (c) mmuss contributors. All rights reserved.
import pytest
import torch

from mmuss.models.decode_heads import IdentityHead


def test_identity_head_returns_selected_features():
    head = IdentityHead(in_channels=8, in_index=1)
    inputs = [torch.randn(2, 4, 3, 3), torch.randn(2, 8, 3, 3)]
    assert head(inputs) is inputs[1]
    assert head.channels == 8
    assert not hasattr(head, 'conv_seg')
    assert list(head.parameters()) == []
    assert head.loss(inputs, [], dict()) == {}


def test_identity_head_keeps_channel_count():
    with pytest.raises(ValueError, match='keep the 8 feature channels'):
        IdentityHead(in_channels=8, channels=4)
