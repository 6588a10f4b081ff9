# Copyright (c) mmuss contributors. All rights reserved.
from typing import Any, Dict, List, Sequence

import torch
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS
from torch import Tensor

IMAGE_INPUT = 'image'
# The image's pixel values (denormalised, model channel order), derived
# from IMAGE_INPUT for heads that work on colours.
PIXELS_INPUT = 'pixels'


@MODELS.register_module()
class USSDataPreProcessor(SegDataPreProcessor):
    """mmseg's ``SegDataPreProcessor`` for images with named dense channels.

    Inputs are the image's ``image_channels`` (3) channels followed, when
    :class:`~mmuss.datasets.transforms.LoadDenseMap` stacked dense maps onto
    the image, by the maps' channels in ``aux_channels`` order. The image
    channels get the usual colour-order conversion and ``mean``/``std``
    normalisation; each map its own ``mean``/``std`` (default 0 / 1, i.e.
    left as loaded). Maps marked ``modality=True`` are aligned 3-channel
    modality images (:class:`~mmuss.datasets.transforms.LoadModality`: HHA
    depth, thermal, polarisation), which the segmentor runs through the
    frozen backbone like the image; they get the image's colour-order
    conversion too (they are decoded like the image) and their own
    ``mean``/``std``. Padding, batching and test-time padding are
    ``SegDataPreProcessor``'s. Inputs of the image channels alone (views
    such as KNN images) are accepted too, so every view of a model is
    normalised by this one object.

    Args:
        mean (Sequence[float]): Image channel means.
        std (Sequence[float]): Image channel standard deviations.
        aux_channels (Sequence[dict]): The stacked maps, in order, each
            ``dict(name=..., channels=1, mean=[0.], std=[1.])``, with
            ``modality=True`` (and 3 channels) for modality images.
        image_channels (int): Channels of the image. Defaults to 3.
        **kwargs: Other ``SegDataPreProcessor`` arguments (``bgr_to_rgb``,
            ``size``, ``pad_val``, ...).
    """

    def __init__(
        self,
        mean: Sequence[float],
        std: Sequence[float],
        aux_channels: Sequence[dict] = (),
        image_channels: int = 3,
        **kwargs,
    ) -> None:
        super().__init__(mean=mean, std=std, **kwargs)
        if len(mean) != image_channels or len(std) != image_channels:
            raise ValueError(
                f'mean and std need {image_channels} values (the image '
                f'channels), got {len(mean)} and {len(std)}'
            )
        self.image_channels = image_channels
        self.convert_image_channels = self.channel_conversion
        # SegDataPreProcessor.forward then only casts, pads and stacks.
        self.channel_conversion = False
        self._enable_normalize = False
        self.aux_specs = [self._aux_spec(spec) for spec in aux_channels]
        names = [IMAGE_INPUT] + [spec['name'] for spec in self.aux_specs]
        if len(set(names)) != len(names):
            raise ValueError(f'input names must be unique, got {names}')
        full_mean = list(mean) + [m for s in self.aux_specs for m in s['mean']]
        full_std = list(std) + [v for s in self.aux_specs for v in s['std']]
        self.register_buffer(
            'channel_mean', torch.tensor(full_mean).view(-1, 1, 1), False
        )
        self.register_buffer(
            'channel_std', torch.tensor(full_std).view(-1, 1, 1), False
        )

    @staticmethod
    def _aux_spec(spec: dict) -> dict:
        if 'name' not in spec:
            raise KeyError(f'an aux_channels entry needs a name: {spec}')
        channels = int(spec.get('channels', 1))
        mean = list(spec.get('mean', [0.0] * channels))
        std = list(spec.get('std', [1.0] * channels))
        if len(mean) != channels or len(std) != channels:
            raise ValueError(
                f'aux input {spec["name"]!r}: mean and std need {channels} '
                f'values, got {mean} and {std}'
            )
        if any(value <= 0 for value in std):
            raise ValueError(
                f'aux input {spec["name"]!r}: std must be positive, got {std}'
            )
        modality = bool(spec.get('modality', False))
        if modality and channels != 3:
            raise ValueError(
                f'modality {spec["name"]!r} must have 3 channels (the '
                f'backbone input), got channels={channels}; encode it with '
                'LoadModality'
            )
        return dict(
            name=spec['name'],
            channels=channels,
            mean=mean,
            std=std,
            modality=modality,
        )

    @property
    def num_channels(self) -> int:
        """Channels of a full input: image plus every stacked map."""
        return self.image_channels + sum(s['channels'] for s in self.aux_specs)

    @property
    def channel_layout(self) -> Dict[str, slice]:
        """Channel range of each named input (``'image'`` first)."""
        layout = {IMAGE_INPUT: slice(0, self.image_channels)}
        start = self.image_channels
        for spec in self.aux_specs:
            layout[spec['name']] = slice(start, start + spec['channels'])
            start += spec['channels']
        return layout

    @property
    def modalities(self) -> List[str]:
        """Names of the stacked modality images, in stacking order."""
        return [spec['name'] for spec in self.aux_specs if spec['modality']]

    def _channel_order(self, channels: int) -> List[int]:
        """Channel permutation of the colour-order conversion: the first
        three image channels and each modality's three are reversed."""
        order = list(range(channels))
        order[:3] = [2, 1, 0]
        for name in self.modalities:
            span = self.channel_layout[name]
            if span.stop <= channels:
                order[span] = order[span][::-1]
        return order

    def normalize(self, image: Tensor) -> Tensor:
        """Colour order and normalisation of one (C, H, W) input, C the
        image channels or all channels."""
        channels = image.shape[0]
        if channels not in (self.image_channels, self.num_channels):
            layout = ', '.join(
                f'{name} {s.stop - s.start}'
                for name, s in self.channel_layout.items()
            )
            raise ValueError(
                f'an input has {channels} channels; the data preprocessor '
                f'expects {self.image_channels} (the image) or '
                f'{self.num_channels} ({layout}): check the LoadDenseMap '
                "transforms against the preprocessor's aux_channels"
            )
        image = image.float()
        if self.convert_image_channels:
            image = image[self._channel_order(channels)]
        return (image - self.channel_mean[:channels]) / self.channel_std[
            :channels
        ]

    def normalize_image(self, pixels: Tensor) -> Tensor:
        """Normalise image pixel values (B, c, H, W) already in the model's
        channel order (e.g. a view made inside the model); differentiable.
        """
        mean = self.channel_mean[: self.image_channels]
        std = self.channel_std[: self.image_channels]
        return (pixels - mean) / std

    def denormalize_image(self, inputs: Tensor) -> Tensor:
        """The image channels of normalised inputs (B, C, H, W) back in
        pixel values, in the channel order the model sees."""
        image = inputs[:, : self.image_channels].float()
        mean = self.channel_mean[: self.image_channels]
        std = self.channel_std[: self.image_channels]
        return image * std + mean

    def split(self, inputs: Tensor) -> Dict[str, Tensor]:
        """Named views of batched inputs (B, C, H, W) by
        :attr:`channel_layout`."""
        if inputs.shape[1] != self.num_channels:
            raise ValueError(
                f'inputs have {inputs.shape[1]} channels, the layout '
                f'{list(self.channel_layout)} has {self.num_channels}'
            )
        return {
            name: inputs[:, channels]
            for name, channels in self.channel_layout.items()
        }

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Normalise each input, then pad and stack as mmseg does."""
        data = self.cast_data(data)
        inputs: List[Tensor] = [self.normalize(x) for x in data['inputs']]
        return super().forward({**data, 'inputs': inputs}, training)
