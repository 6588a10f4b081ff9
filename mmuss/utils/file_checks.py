# Copyright (c) mmuss contributors. All rights reserved.
"""Checks offline tools run on the files they would skip.

Tools write atomically, so an output that exists was complete when it was
written; it can still be damaged later (a copy cut short, a full disk, a
user's edit). Before skipping an existing output a tool asks
:func:`reusable_image`, which decodes it fully and checks its size, and
rebuilds it otherwise, naming it in a warning. A derived file that a
dataset or transform needs but cannot find raises
:class:`MissingDerivedFileError`, which names the tool that makes it.
"""

import os.path as osp
import warnings
from typing import Optional, Sequence

from PIL import Image


class MissingDerivedFileError(FileNotFoundError):
    """A file made by an offline tool (KNN list, pseudo-mask or dense map)
    is missing.

    Args:
        message (str): The error message (it names the file and the tool).
        tool (str, optional): The offline tool that makes the file, as a
            command from the repository root (``tools/<name>.py``, possibly
            with options), or None when no tool is known.
    """

    def __init__(self, message: str, tool: Optional[str] = None) -> None:
        super().__init__(message)
        self.tool = tool


def image_file_problem(
    path: str, size: Optional[Sequence[int]] = None
) -> Optional[str]:
    """What is wrong with an image file, or None when it is usable.

    Args:
        path (str): Image or label map file.
        size (Sequence[int], optional): Expected (height, width).

    Returns:
        str or None: ``'missing'``, a decoding error, or a size mismatch.
    """
    if not osp.isfile(path):
        return 'missing'
    try:
        with Image.open(path) as image:
            image.load()
            width, height = image.size
    except Exception as error:  # any decoder failure means unusable
        return f'unreadable ({type(error).__name__}: {error})'
    if size is not None and (height, width) != tuple(size):
        return f'is {height}x{width}, expected {size[0]}x{size[1]}'
    return None


def reusable_image(path: str, size: Optional[Sequence[int]] = None) -> bool:
    """Whether an offline tool may keep an existing output.

    A missing file is simply not reusable; an existing file that is broken
    or has the wrong size triggers a warning naming it (the caller rebuilds
    it).

    Args:
        path (str): The output file.
        size (Sequence[int], optional): Expected (height, width).
    """
    problem = image_file_problem(path, size)
    if problem is None:
        return True
    if problem != 'missing':
        warnings.warn(f'rebuilding {path}: {problem}', stacklevel=2)
    return False
