# Copyright (c) mmuss contributors. All rights reserved.
"""Files written by the tools respect the umask like ordinary writes."""

import os
import stat

import numpy as np
import pytest

from mmuss.datasets.synthetic import generate_synthetic_scenes
from mmuss.utils.atomic_io import (
    atomic_path,
    default_file_mode,
    save_image_atomic,
)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_default_modes_follow_the_umask(umask_022):
    assert default_file_mode() == 0o644
    assert default_file_mode(directory=True) == 0o755


def test_atomic_files_are_readable_by_others(tmp_path, umask_022):
    with atomic_path(str(tmp_path / 'a.bin')) as tmp:
        with open(tmp, 'wb') as file:
            file.write(b'x')
    save_image_atomic(np.zeros((4, 4), np.uint8), str(tmp_path / 'b.png'))
    plain = tmp_path / 'c.txt'
    plain.write_text('ordinary write')
    assert mode(tmp_path / 'a.bin') == mode(plain) == 0o644
    assert mode(tmp_path / 'b.png') == 0o644


def test_synthetic_dataset_folder_is_shared(tmp_path, umask_022):
    root = tmp_path / 'scenes'
    generate_synthetic_scenes(str(root), num_train=2, num_val=1, size=32)
    assert mode(root) == 0o755
    assert mode(root / 'images' / 'train' / '00000.png') == 0o644
