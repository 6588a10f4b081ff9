# Copyright (c) mmuss contributors. All rights reserved.
import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


def gaussian_blur(
    image: np.ndarray, sigma: float, kernel_size: int = 21
) -> np.ndarray:
    """Gaussian blur with a fixed kernel and standard deviation ``sigma``."""
    return cv2.GaussianBlur(image, (kernel_size, kernel_size), sigma)


def grayscale(image: np.ndarray) -> np.ndarray:
    """Grey image repeated over 3 channels (BGR input)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return np.repeat(grey[..., None], 3, axis=2)


def color_jitter(
    image: np.ndarray, rng: np.random.Generator, strength: float = 0.1
) -> np.ndarray:
    """Random brightness, contrast, saturation and hue changes of up to
    ``strength`` (torchvision ``ColorJitter`` semantics), in random order.
    """
    image = image.astype(np.float32)

    def brightness(x):
        return x * rng.uniform(1 - strength, 1 + strength)

    def contrast(x):
        mean = cv2.cvtColor(
            x.clip(0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY
        ).mean()
        return (x - mean) * rng.uniform(1 - strength, 1 + strength) + mean

    def saturation(x):
        grey = grayscale(x.clip(0, 255).astype(np.uint8)).astype(np.float32)
        return grey + (x - grey) * rng.uniform(1 - strength, 1 + strength)

    def hue(x):
        hsv = cv2.cvtColor(
            x.clip(0, 255).astype(np.uint8), cv2.COLOR_BGR2HSV
        ).astype(np.float32)
        hsv[..., 0] = (
            hsv[..., 0] + rng.uniform(-strength, strength) * 180
        ) % 180
        return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR).astype(
            np.float32
        )

    for index in rng.permutation(4):
        image = (brightness, contrast, saturation, hue)[index](image)
    return image.clip(0, 255).astype(np.uint8)


@TRANSFORMS.register_module()
class PhotometricView(BaseTransform):
    """A photometrically augmented copy of the image for a student branch.

    PriMaPs-EM (Sec. 3.2) trains the class prototypes on an augmented image
    I' while the teacher sees the clean image; only photometric changes are
    applied, so both stay pixel-aligned. The steps and probabilities are
    upstream's: Gaussian blur (kernel 21, sigma ~ U[0.1, 2]) always; then,
    with probability 0.5, colour jitter (0.1) applied with probability 0.3,
    otherwise greyscale with probability 0.1.

    Where they act differs: here on the uint8 image before normalisation
    (values clipped to [0, 255], greyscale from the RGB colours), upstream
    on the ImageNet-normalised tensor, where torchvision's tensor colour
    jitter clamps the normalised values to [0, 1] whenever it fires (all
    negative values, i.e. everything darker than the dataset mean per
    channel, become 0) and greyscale mixes the normalised channels. The
    paper describes photometric augmentations of the image I', which this
    follows.

    Required keys: ``img`` (BGR; only its first three channels are used,
    so dense maps stacked onto it by :class:`LoadDenseMap` are left out of
    the view, which is a uint8 colour image). Added keys: ``key``,
    ``random_fields`` (lists ``key``: the image differs at every call, so
    the feature cache does not store it).

    Args:
        key (str): Result key. Defaults to ``'student_img'``.
        blur_sigma (tuple[float, float]): Range of sigma.
        blur_kernel (int): Kernel size. Defaults to 21.
        jitter_strength (float): Colour jitter magnitude. Defaults to 0.1.
        jitter_prob (float): Defaults to 0.3.
        grayscale_prob (float): Defaults to 0.1.
    """

    def __init__(
        self,
        key: str = 'student_img',
        blur_sigma=(0.1, 2.0),
        blur_kernel: int = 21,
        jitter_strength: float = 0.1,
        jitter_prob: float = 0.3,
        grayscale_prob: float = 0.1,
    ) -> None:
        self.key = key
        self.blur_sigma = blur_sigma
        self.blur_kernel = blur_kernel
        self.jitter_strength = jitter_strength
        self.jitter_prob = jitter_prob
        self.grayscale_prob = grayscale_prob

    def transform(self, results: dict) -> dict:
        rng = np.random.default_rng(np.random.randint(2**31))
        colour = results['img'][..., :3]
        if colour.dtype != np.uint8:  # float after LoadDenseMap
            colour = colour.round().clip(0, 255).astype(np.uint8)
        image = gaussian_blur(
            colour, rng.uniform(*self.blur_sigma), self.blur_kernel
        )
        if rng.random() < 0.5:
            if rng.random() < self.jitter_prob:
                image = color_jitter(image, rng, self.jitter_strength)
        elif rng.random() < self.grayscale_prob:
            image = grayscale(image)
        results[self.key] = image
        # tells the feature cache not to store this random image
        results['random_fields'] = list(results.get('random_fields', [])) + [
            self.key
        ]
        return results
