# Copyright (c) mmuss contributors. All rights reserved.
"""Learnable geodesic morphology on the HSL lightness: the equations of
MSSSeg's StructAug (Li et al., "MSSSeg", §3.3, Eqs. 6-8).

StructAug converts the image to HSL, corrupts only the lightness ``L`` (in
[0, 1]) with one operator of a morphological toolbox built on learnable
geodesic erosion and dilation, blends the result with ``L`` and converts
back. The displayed equations are lost from the paper's text; the prose
gives (our reconstruction, notation of the paper's symbols):

* affinity kernel ``w_β(p, q) = exp(-β |L(p) - L(q)|)`` over a k x k
  neighbourhood ``N(p)``;
* Eq. 6, erosion ``ε(L)(p) = min_{q∈N(p)} L(q) + λ_e (1 - w_βe(p, q))``;
* Eq. 7, dilation ``δ(L)(p) = max_{q∈N(p)} L(q) - λ_d (1 - w_βd(p, q))``;
* toolbox: opening ``δ(ε(L))``, closing ``ε(δ(L))``, black top-hat
  ``φ(L) - L``, white top-hat ``L - γ(L)``;
* Eq. 8, ``L~ = (1 - a) L + a Σ_k g_k O_k(L)`` with Gumbel-softmax weights
  ``g`` over the toolbox.

How the penalty acts: a neighbour ``q`` darker than ``p`` by ``d`` wins the
erosion when ``d > λ (1 - exp(-β d))``; it then brings ``p`` down to
``L(q) + λ (1 - exp(-β d))``. β → 0 gives flat (isotropic) morphology;
large β (with λ ≥ the lightness steps) keeps ``p`` where its neighbours
differ, i.e. boundary-preserving geodesic morphology. ``p`` itself always
has penalty 0, so ``ε(L) ≤ L ≤ δ(L)``.

Borders: the neighbourhood is clipped to the image (replicate padding,
which for a max or min over a window is the same thing).
"""

from functools import partial
from typing import Callable, NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F
from kornia.color import hls_to_rgb, rgb_to_hls
from torch import Tensor

TOOLBOX = ('opening', 'closing', 'black_top_hat', 'white_top_hat')
TOP_HAT_MODES = ('residual', 'raw')
CHANNEL_ORDERS = ('rgb', 'bgr')


class GeodesicOperator(NamedTuple):
    """Positive parameters of one geodesic primitive (MSSSeg Eqs. 6-7):
    boundary sensitivity ``beta`` (β) and penalty magnitude ``penalty``
    (λ), scalar tensors."""

    beta: Tensor
    penalty: Tensor


def check_colour_images(images: Tensor, name: str = 'images') -> None:
    """Refuse anything but a (B, 3, H, W) batch of colour images.

    Raises:
        ValueError: Naming the shape at fault.
    """
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(
            f'{name} must be colour images (B, 3, H, W), got shape '
            f'{tuple(images.shape)}'
        )


def pixels_to_hls(
    pixels: Tensor, max_value: float = 255.0, channel_order: str = 'rgb'
) -> Tensor:
    """HSL (kornia's HLS layout) of pixel values, MSSSeg §3.3 ("we convert
    the input to HSL").

    Args:
        pixels (Tensor): Colour images (B, 3, H, W) with values in
            [0, ``max_value``] (clipped to it), in ``channel_order``.
        max_value (float): The pixel value of full intensity.
        channel_order (str): 'rgb' or 'bgr': the order of ``pixels``.

    Returns:
        Tensor: (B, 3, H, W): hue in radians [0, 2π), lightness and
        saturation in [0, 1].
    """
    check_colour_images(pixels, 'pixels')
    rgb = (pixels / max_value).clamp(0.0, 1.0)
    if channel_order == 'bgr':
        rgb = rgb.flip(1)
    elif channel_order != 'rgb':
        raise ValueError(
            f'channel_order must be one of {CHANNEL_ORDERS}, got '
            f'{channel_order!r}'
        )
    return rgb_to_hls(rgb)


def hls_to_pixels(
    hls: Tensor, max_value: float = 255.0, channel_order: str = 'rgb'
) -> Tensor:
    """Pixel values of HSL images, the inverse of :func:`pixels_to_hls`
    (MSSSeg §3.3: "recombined with the original H and S channels and
    converted back to RGB").

    Args:
        hls (Tensor): (B, 3, H, W) as :func:`pixels_to_hls` returns.
        max_value (float): The pixel value of full intensity.
        channel_order (str): 'rgb' or 'bgr': the order to return.

    Returns:
        Tensor: (B, 3, H, W) pixel values in [0, ``max_value``].
    """
    if channel_order not in CHANNEL_ORDERS:
        raise ValueError(
            f'channel_order must be one of {CHANNEL_ORDERS}, got '
            f'{channel_order!r}'
        )
    rgb = hls_to_rgb(hls)
    if channel_order == 'bgr':
        rgb = rgb.flip(1)
    return rgb * max_value


def neighbourhood(values: Tensor, kernel_size: int) -> Tensor:
    """The values of each pixel's k x k neighbourhood ``N(p)``, clipped to
    the image (MSSSeg Eqs. 6-7).

    Args:
        values (Tensor): Maps (B, C, H, W).
        kernel_size (int): Odd side k of the neighbourhood.

    Returns:
        Tensor: (B, C, k*k, H, W), row-major over the window.
    """
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(
            f'kernel_size must be a positive odd integer, got {kernel_size}'
        )
    radius = kernel_size // 2
    height, width = values.shape[-2:]
    padded = F.pad(values, (radius,) * 4, mode='replicate')
    shifts = [
        padded[..., i : i + height, j : j + width]
        for i in range(kernel_size)
        for j in range(kernel_size)
    ]
    return torch.stack(shifts, dim=2)


def lightness_steps(guide: Tensor, kernel_size: int) -> Tensor:
    """``|L(p) - L(q)|`` for each pixel ``p`` and neighbour ``q ∈ N(p)``,
    the argument of the affinity kernel of MSSSeg Eqs. 6-7.

    Args:
        guide (Tensor): Lightness (B, 1, H, W).
        kernel_size (int): Odd side k of ``N(p)``.

    Returns:
        Tensor: (B, 1, k*k, H, W), 0 at ``q = p``.
    """
    return (neighbourhood(guide, kernel_size) - guide.unsqueeze(2)).abs()


def affinity_kernel(guide: Tensor, beta: Tensor, kernel_size: int) -> Tensor:
    """Affinity ``w_β(p, q) = exp(-β |L(p) - L(q)|)`` of each pixel to its
    neighbours, the learnable kernel of MSSSeg Eqs. 6-7.

    Args:
        guide (Tensor): Lightness (B, 1, H, W) the affinity is read from.
        beta (Tensor): Boundary sensitivity β ≥ 0 (scalar tensor).
        kernel_size (int): Odd side k of ``N(p)``.

    Returns:
        Tensor: (B, 1, k*k, H, W) in (0, 1]; 1 at ``q = p``.
    """
    return torch.exp(-beta * lightness_steps(guide, kernel_size))


def geodesic_penalty(steps: Tensor, operator: GeodesicOperator) -> Tensor:
    """The penalty ``λ (1 - w_β(p, q))`` of MSSSeg Eqs. 6-7.

    Args:
        steps (Tensor): ``|L(p) - L(q)|`` (B, 1, k*k, H, W), see
            :func:`lightness_steps`.
        operator (GeodesicOperator): β and λ.

    Returns:
        Tensor: The same shape; 0 at ``q = p``, at most λ.
    """
    return operator.penalty * (1.0 - torch.exp(-operator.beta * steps))


def geodesic_erosion(
    lightness: Tensor,
    operator: GeodesicOperator,
    kernel_size: int = 3,
    guide: Optional[Tensor] = None,
    penalty: Optional[Tensor] = None,
) -> Tensor:
    """Learnable geodesic erosion, MSSSeg Eq. 6:
    ``ε(L)(p) = min_{q∈N(p)} L(q) + λ_e (1 - w_βe(p, q))``.

    Args:
        lightness (Tensor): The operand (B, 1, H, W).
        operator (GeodesicOperator): β_e and λ_e (λ_e ≥ 0 keeps
            ``ε(L) ≤ L``).
        kernel_size (int): Odd side k of ``N(p)``. Defaults to 3.
        guide (Tensor, optional): The lightness the affinity is read
            from; defaults to the operand.
        penalty (Tensor, optional): The penalty already computed for the
            guide (:func:`geodesic_penalty`), e.g. shared by the
            compositions of a toolbox; ``operator`` and ``guide`` are then
            unused.

    Returns:
        Tensor: (B, 1, H, W).
    """
    if penalty is None:
        guide = lightness if guide is None else guide
        steps = lightness_steps(guide, kernel_size)
        penalty = geodesic_penalty(steps, operator)
    candidates = neighbourhood(lightness, kernel_size) + penalty
    return candidates.min(dim=2).values


def geodesic_dilation(
    lightness: Tensor,
    operator: GeodesicOperator,
    kernel_size: int = 3,
    guide: Optional[Tensor] = None,
    penalty: Optional[Tensor] = None,
) -> Tensor:
    """Learnable geodesic dilation, MSSSeg Eq. 7:
    ``δ(L)(p) = max_{q∈N(p)} L(q) - λ_d (1 - w_βd(p, q))``.

    Args:
        lightness (Tensor): The operand (B, 1, H, W).
        operator (GeodesicOperator): β_d and λ_d (λ_d ≥ 0 keeps
            ``δ(L) ≥ L``).
        kernel_size (int): Odd side k of ``N(p)``. Defaults to 3.
        guide (Tensor, optional): The lightness the affinity is read
            from; defaults to the operand.
        penalty (Tensor, optional): As in :func:`geodesic_erosion`.

    Returns:
        Tensor: (B, 1, H, W).
    """
    if penalty is None:
        guide = lightness if guide is None else guide
        steps = lightness_steps(guide, kernel_size)
        penalty = geodesic_penalty(steps, operator)
    candidates = neighbourhood(lightness, kernel_size) - penalty
    return candidates.max(dim=2).values


def geodesic_opening(
    lightness: Tensor,
    erosion: GeodesicOperator,
    dilation: GeodesicOperator,
    kernel_size: int = 3,
    guide: Optional[Tensor] = None,
) -> Tensor:
    """Geodesic opening ``γ(L) = δ(ε(L))``, MSSSeg §3.3 toolbox (breaks
    bright bridges).

    With a fixed ``guide`` (e.g. the input lightness) and equal erosion
    and dilation parameters, Eqs. 6-7 are adjoint, so ``γ`` is a true
    opening: ``γ(L) ≤ L`` and ``γ(γ(L)) = γ(L)``. With ``guide=None``
    each primitive reads the affinity from its own operand.

    Args:
        lightness (Tensor): (B, 1, H, W).
        erosion (GeodesicOperator): Parameters of Eq. 6.
        dilation (GeodesicOperator): Parameters of Eq. 7.
        kernel_size (int): Odd side k of ``N(p)``. Defaults to 3.
        guide (Tensor, optional): Lightness of the affinity of both
            primitives; None: each primitive's operand.

    Returns:
        Tensor: (B, 1, H, W).
    """
    eroded = geodesic_erosion(lightness, erosion, kernel_size, guide)
    return geodesic_dilation(eroded, dilation, kernel_size, guide)


def geodesic_closing(
    lightness: Tensor,
    erosion: GeodesicOperator,
    dilation: GeodesicOperator,
    kernel_size: int = 3,
    guide: Optional[Tensor] = None,
) -> Tensor:
    """Geodesic closing ``φ(L) = ε(δ(L))``, MSSSeg §3.3 toolbox (fills
    dark gaps). ``φ(L) ≥ L`` under the conditions of
    :func:`geodesic_opening`.

    Args:
        lightness (Tensor): (B, 1, H, W).
        erosion (GeodesicOperator): Parameters of Eq. 6.
        dilation (GeodesicOperator): Parameters of Eq. 7.
        kernel_size (int): Odd side k of ``N(p)``. Defaults to 3.
        guide (Tensor, optional): As in :func:`geodesic_opening`.

    Returns:
        Tensor: (B, 1, H, W).
    """
    dilated = geodesic_dilation(lightness, dilation, kernel_size, guide)
    return geodesic_erosion(dilated, erosion, kernel_size, guide)


def black_top_hat(lightness: Tensor, closing: Tensor) -> Tensor:
    """Black top-hat ``φ(L) - L`` (dark residuals: shadows), MSSSeg §3.3
    toolbox.

    Args:
        lightness (Tensor): ``L`` (B, 1, H, W).
        closing (Tensor): ``φ(L)``, the same shape.
    """
    return closing - lightness


def white_top_hat(lightness: Tensor, opening: Tensor) -> Tensor:
    """White top-hat ``L - γ(L)`` (bright residuals: glare), MSSSeg §3.3
    toolbox.

    Args:
        lightness (Tensor): ``L`` (B, 1, H, W).
        opening (Tensor): ``γ(L)``, the same shape.
    """
    return lightness - opening


def primitives(
    erosion: GeodesicOperator,
    dilation: GeodesicOperator,
    kernel_size: int,
    guide: Optional[Tensor],
) -> Tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]:
    """Eqs. 6 and 7 as functions of the operand; with a fixed ``guide``
    their penalties are computed once (the lightness steps once for
    both), which halves the cost of the toolbox."""
    if guide is None:
        return (
            partial(
                geodesic_erosion, operator=erosion, kernel_size=kernel_size
            ),
            partial(
                geodesic_dilation, operator=dilation, kernel_size=kernel_size
            ),
        )
    steps = lightness_steps(guide, kernel_size)
    return (
        partial(
            geodesic_erosion,
            operator=erosion,
            kernel_size=kernel_size,
            penalty=geodesic_penalty(steps, erosion),
        ),
        partial(
            geodesic_dilation,
            operator=dilation,
            kernel_size=kernel_size,
            penalty=geodesic_penalty(steps, dilation),
        ),
    )


def toolbox_outputs(
    lightness: Tensor,
    erosion: GeodesicOperator,
    dilation: GeodesicOperator,
    kernel_size: int = 3,
    guide: Optional[Tensor] = None,
    top_hat: str = 'residual',
) -> Tensor:
    """The outputs ``O_k(L)`` of the toolbox (MSSSeg §3.3) as they enter
    Eq. 8, in :data:`TOOLBOX` order.

    The paper calls the top-hats residuals that "isolate" shadows and
    glare but does not say how a residual enters the blend of Eq. 8. With
    ``top_hat='residual'`` (our default) a residual is applied to ``L``:
    the shadows deepened, ``L - (φ(L) - L)``, and the glare brightened,
    ``L + (L - γ(L))``, a local corruption like the other two operators.
    ``top_hat='raw'`` blends the residual maps themselves (near 0 away
    from small structures, so the blend mostly darkens the image
    globally).

    Args:
        lightness (Tensor): ``L`` (B, 1, H, W).
        erosion (GeodesicOperator): Parameters of Eq. 6.
        dilation (GeodesicOperator): Parameters of Eq. 7.
        kernel_size (int): Odd side k of ``N(p)``. Defaults to 3.
        guide (Tensor, optional): As in :func:`geodesic_opening`.
        top_hat (str): 'residual' or 'raw'.

    Returns:
        Tensor: (B, 4, H, W).
    """
    if top_hat not in TOP_HAT_MODES:
        raise ValueError(
            f'top_hat must be one of {TOP_HAT_MODES}, got {top_hat!r}'
        )
    erode, dilate = primitives(erosion, dilation, kernel_size, guide)
    opening = dilate(erode(lightness))
    closing = erode(dilate(lightness))
    shadows = black_top_hat(lightness, closing)
    glare = white_top_hat(lightness, opening)
    if top_hat == 'residual':
        shadows, glare = lightness - shadows, lightness + glare
    return torch.cat([opening, closing, shadows, glare], dim=1)


def gumbel_selection(
    logits: Tensor, batch_size: int, tau: float = 1.0, hard: bool = True
) -> Tensor:
    """Operator weights ``g ~ GumbelSoftmax(π, τ)`` per image, MSSSeg §3.3
    (Jang et al. 2017; Maddison et al. 2017).

    Args:
        logits (Tensor): Learnable logits π (K,).
        batch_size (int): Images B, each drawing its own operator.
        tau (float): Temperature τ > 0.
        hard (bool): One-hot weights with the soft sample's gradient
            (straight-through) instead of the soft sample.

    Returns:
        Tensor: (B, K), rows summing to 1.
    """
    if tau <= 0:
        raise ValueError(f'tau must be positive, got {tau}')
    expanded = logits.unsqueeze(0).expand(batch_size, -1)
    return F.gumbel_softmax(expanded, tau=tau, hard=hard, dim=1)


def structural_blend(
    lightness: Tensor, outputs: Tensor, weights: Tensor, blend: Tensor
) -> Tensor:
    """MSSSeg Eq. 8: ``L~ = (1 - a) L + a Σ_k g_k O_k(L)``.

    Args:
        lightness (Tensor): ``L`` (B, 1, H, W).
        outputs (Tensor): ``O_k(L)`` (B, K, H, W).
        weights (Tensor): ``g`` (B, K).
        blend (Tensor): ``a`` in [0, 1] (scalar tensor).

    Returns:
        Tensor: ``L~`` (B, 1, H, W) (not clipped).
    """
    selected = (outputs * weights[:, :, None, None]).sum(1, keepdim=True)
    return (1.0 - blend) * lightness + blend * selected
