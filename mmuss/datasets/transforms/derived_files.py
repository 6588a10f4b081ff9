# Copyright (c) mmuss contributors. All rights reserved.
"""Where offline tools put the files derived from a dataset's images
(pseudo masks, dense maps), shared by the transforms that read them."""

import os.path as osp
from typing import Optional


def derived_file_path(
    img_path: str, data_root: str, folder: str, suffix: str = '.png'
) -> str:
    """``<data_root>/<folder>/<img_path relative to data_root><suffix>``
    (the image's extension replaced)."""
    relative = osp.relpath(img_path, data_root)
    return osp.join(data_root, folder, osp.splitext(relative)[0] + suffix)


def sample_data_root(
    results: dict, data_root: Optional[str], owner: str
) -> str:
    """The transform's ``data_root`` or else the sample's (set by mmuss
    datasets, so overriding the dataset root moves derived files with it).

    Raises:
        KeyError: Naming ``owner`` and the sample when neither is set.
    """
    root = data_root or results.get('data_root')
    if not root:
        raise KeyError(
            f'{owner} needs data_root: give it, or use a dataset that puts '
            f'it in each sample (mmuss datasets do); sample '
            f'{results["img_path"]}'
        )
    return root
