# Copyright (c) mmuss contributors. All rights reserved.
"""Validation of ground-truth label maps before they reach a loss or metric."""

from typing import Union

import numpy as np
import torch

ArrayLike = Union[np.ndarray, torch.Tensor]


def invalid_label_values(
    label: ArrayLike, num_classes: int, ignore_index: int
) -> list:
    """Return the sorted label values outside ``[0, num_classes)`` that are
    not ``ignore_index``.

    Args:
        label (np.ndarray | Tensor): Label map of any shape.
        num_classes (int): Number of valid classes C.
        ignore_index (int): The value marking unlabelled pixels.

    Returns:
        list[int]: The offending values, empty when the map is valid.
    """
    values = torch.as_tensor(label).unique()
    bad = values[
        ((values < 0) | (values >= num_classes)) & (values != ignore_index)
    ]
    return [int(v) for v in bad.tolist()]


def check_label_values(
    label: ArrayLike,
    num_classes: int,
    ignore_index: int = 255,
    source: str | None = None,
) -> None:
    """Raise a ``ValueError`` naming the file and values when a label map
    holds values outside ``[0, num_classes)`` ∪ {``ignore_index``}.

    Args:
        label (np.ndarray | Tensor): Label map of any shape.
        num_classes (int): Number of valid classes C.
        ignore_index (int): The value marking unlabelled pixels.
            Defaults to 255.
        source (str, optional): The file the labels came from, used in the
            error message.
    """
    bad = invalid_label_values(label, num_classes, ignore_index)
    if bad:
        where = f' in {source}' if source else ''
        raise ValueError(
            f'label values {bad}{where} are outside [0, {num_classes}) and '
            f'are not the ignore index {ignore_index}; check the dataset '
            'conversion or the number of classes'
        )
