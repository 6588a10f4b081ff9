# Copyright (c) mmuss contributors. All rights reserved.
import math
from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from mmuss.models.utils.geodesic_morphology import (
    CHANNEL_ORDERS,
    TOOLBOX,
    TOP_HAT_MODES,
    GeodesicOperator,
    check_colour_images,
    gumbel_selection,
    hls_to_pixels,
    pixels_to_hls,
    structural_blend,
    toolbox_outputs,
)
from mmuss.models.utils.gradient_scaling import scale_gradient

from .base_view_generator import BaseViewGenerator

GUIDES = ('input', 'operand')


def inverse_softplus(value: float) -> float:
    """``x`` with ``softplus(x) = value`` (value > 0)."""
    return value + math.log(-math.expm1(-value))


@MODELS.register_module()
class StructAug(BaseViewGenerator):
    """MSSSeg's Learnable Structural Augmentation (Li et al., "MSSSeg",
    §3.3): a learned photometric-structural corruption of the image's HSL
    lightness, trained through the frozen backbone, and reused at test
    time as augmentation.

    The image is converted to HSL; its lightness ``L`` goes through a
    toolbox of learnable geodesic morphology (opening, closing, black and
    white top-hat, built on Eqs. 6-7); one operator per image is drawn by
    Gumbel-softmax from learnable logits and blended with ``L`` (Eq. 8);
    hue and saturation are kept and the result converted back. See
    :mod:`mmuss.models.utils.geodesic_morphology` for the equations.

    Learnable scalars (9, the paper's "fewer than 10"): β_e, β_d and λ_e,
    λ_d (through softplus), the 4 logits π, and the blend ``a =
    max_blend * sigmoid(·)``.

    Adversarial curriculum: the paper wants the corruption to "intensify
    as the segmentation head strengthens". With ``adversarial=True``
    (default) every parameter sits behind a gradient reversal layer
    (factor ``-grad_scale``), so the optimiser that descends the head's
    loss makes StructAug *ascend* it; the bounded blend keeps the view
    recognisable. ``adversarial=False`` is plain descent (factor
    ``+grad_scale``).

    Randomness: the operator is sampled in training and, by default
    (``sample_in_eval=True``), at test time too, so
    ``test_cfg.tta_views=['structaug'] * N`` averages N perturbed views and
    the clean image. With ``sample_in_eval=False`` evaluation uses the
    most likely operator.

    Pixel values arrive in [0, ``max_value``] in the model's channel order
    (``channel_order``: 'rgb' after ``USSDataPreProcessor(bgr_to_rgb=
    True)``, as the configs set) and leave the same way; the new lightness
    is clipped to [0, 1], so the view stays in range. The computation runs
    in float32 whatever the input's dtype.

    Args:
        kernel_size (int): Odd side of the neighbourhood ``N(p)``; not in
            the paper. Defaults to 3.
        init_beta (float): Initial β of both primitives (per unit of
            lightness). Defaults to 10.
        init_penalty (float): Initial λ of both primitives (lightness
            units). Defaults to 0.1.
        init_blend (float): Initial blend ``a``, in (0, max_blend).
            Defaults to 0.25.
        max_blend (float): Upper bound of ``a``, in (0, 1].
            Defaults to 0.5.
        tau (float): Gumbel-softmax temperature; not in the paper.
            Defaults to 1.
        hard (bool): One-hot (straight-through) selection instead of a
            soft mixture. Defaults to True.
        guide (str): Where the affinity of a composed operator is read:
            'input' (default), the input lightness for both primitives,
            which makes erosion and dilation adjoint when their parameters
            are equal (true openings and closings); 'operand', each
            primitive's own input.
        top_hat (str): 'residual' (default) or 'raw'; see
            :func:`~mmuss.models.utils.toolbox_outputs`.
        adversarial (bool): Reverse the parameters' gradient.
            Defaults to True.
        grad_scale (float): Magnitude of the parameters' gradient factor.
            Defaults to 1.
        sample_in_eval (bool): Sample the operator in eval mode too.
            Defaults to True.
        channel_order (str): 'rgb' or 'bgr'. Defaults to 'rgb'.
        max_value (float): Pixel value of full intensity.
            Defaults to 255.
    """

    def __init__(
        self,
        kernel_size: int = 3,
        init_beta: float = 10.0,
        init_penalty: float = 0.1,
        init_blend: float = 0.25,
        max_blend: float = 0.5,
        tau: float = 1.0,
        hard: bool = True,
        guide: str = 'input',
        top_hat: str = 'residual',
        adversarial: bool = True,
        grad_scale: float = 1.0,
        sample_in_eval: bool = True,
        channel_order: str = 'rgb',
        max_value: float = 255.0,
    ) -> None:
        super().__init__()
        self._check_options(
            kernel_size=kernel_size,
            init_beta=init_beta,
            init_penalty=init_penalty,
            init_blend=init_blend,
            max_blend=max_blend,
            tau=tau,
            guide=guide,
            top_hat=top_hat,
            grad_scale=grad_scale,
            channel_order=channel_order,
            max_value=max_value,
        )
        self.kernel_size = kernel_size
        self.max_blend = max_blend
        self.tau = tau
        self.hard = hard
        self.guide = guide
        self.top_hat = top_hat
        self.adversarial = adversarial
        self.grad_scale = grad_scale
        self.sample_in_eval = sample_in_eval
        self.channel_order = channel_order
        self.max_value = max_value
        # (erosion, dilation)
        self.raw_beta = nn.Parameter(
            torch.full((2,), inverse_softplus(init_beta))
        )
        self.raw_penalty = nn.Parameter(
            torch.full((2,), inverse_softplus(init_penalty))
        )
        self.logits = nn.Parameter(torch.zeros(len(TOOLBOX)))
        fraction = init_blend / max_blend
        self.raw_blend = nn.Parameter(
            torch.tensor(math.log(fraction / (1.0 - fraction)))
        )

    @staticmethod
    def _check_options(**options) -> None:
        """Refuse option values out of their domain, naming them."""
        kernel_size = options['kernel_size']
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(
                f'kernel_size must be a positive odd integer, got '
                f'{kernel_size}'
            )
        for name in ('init_beta', 'init_penalty', 'tau', 'max_value'):
            if not options[name] > 0:
                raise ValueError(
                    f'{name} must be positive, got {options[name]}'
                )
        if not 0 < options['max_blend'] <= 1:
            raise ValueError(
                f'max_blend must lie in (0, 1], got {options["max_blend"]}'
            )
        if not 0 < options['init_blend'] < options['max_blend']:
            raise ValueError(
                f'init_blend must lie in (0, max_blend='
                f'{options["max_blend"]}), got {options["init_blend"]}'
            )
        if options['grad_scale'] < 0:
            raise ValueError(
                'grad_scale must be non-negative (set adversarial to '
                f'reverse the gradient), got {options["grad_scale"]}'
            )
        for name, allowed in (
            ('guide', GUIDES),
            ('top_hat', TOP_HAT_MODES),
            ('channel_order', CHANNEL_ORDERS),
        ):
            if options[name] not in allowed:
                raise ValueError(
                    f'{name} must be one of {allowed}, got {options[name]!r}'
                )

    @property
    def gradient_factor(self) -> float:
        """The factor the parameters' gradient is multiplied by."""
        return -self.grad_scale if self.adversarial else self.grad_scale

    def _through_reversal(self, parameter: Tensor) -> Tensor:
        return scale_gradient(parameter, self.gradient_factor)

    def constrained_parameters(self) -> Dict[str, Tensor]:
        """The parameters in their domains (softplus, bounded sigmoid),
        behind the gradient scaling: ``beta`` and ``penalty`` (erosion,
        dilation), ``logits`` and ``blend``."""
        blend = self._through_reversal(self.raw_blend)
        return dict(
            beta=F.softplus(self._through_reversal(self.raw_beta)),
            penalty=F.softplus(self._through_reversal(self.raw_penalty)),
            logits=self._through_reversal(self.logits),
            blend=self.max_blend * torch.sigmoid(blend),
        )

    def select(self, logits: Tensor, batch_size: int) -> Tensor:
        """Operator weights (B, 4): a Gumbel-softmax sample, or the most
        likely operator in eval mode without ``sample_in_eval``."""
        if self.training or self.sample_in_eval:
            return gumbel_selection(logits, batch_size, self.tau, self.hard)
        best = torch.zeros(batch_size, len(TOOLBOX), device=logits.device)
        best[:, int(logits.argmax())] = 1.0
        return best

    def forward(self, images: Tensor) -> Tensor:
        """The StructAug view (B, 3, H, W) of pixel values ``images``."""
        check_colour_images(images)
        params = self.constrained_parameters()
        hls = pixels_to_hls(images.float(), self.max_value, self.channel_order)
        lightness = hls[:, 1:2]
        erosion = GeodesicOperator(params['beta'][0], params['penalty'][0])
        dilation = GeodesicOperator(params['beta'][1], params['penalty'][1])
        outputs = toolbox_outputs(
            lightness,
            erosion,
            dilation,
            self.kernel_size,
            guide=lightness if self.guide == 'input' else None,
            top_hat=self.top_hat,
        )
        weights = self.select(params['logits'], images.shape[0])
        new_lightness = structural_blend(
            lightness, outputs, weights, params['blend']
        ).clamp(0.0, 1.0)
        view = torch.cat([hls[:, :1], new_lightness, hls[:, 2:]], dim=1)
        pixels = hls_to_pixels(view, self.max_value, self.channel_order)
        if images.is_floating_point():
            pixels = pixels.to(images.dtype)
        return pixels

    def extra_repr(self) -> str:
        return (
            f'kernel_size={self.kernel_size}, guide={self.guide!r}, '
            f'top_hat={self.top_hat!r}, adversarial={self.adversarial}'
        )
