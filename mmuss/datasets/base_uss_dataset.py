# Copyright (c) mmuss contributors. All rights reserved.
import logging
import os
import os.path as osp
from typing import Any, List, Optional, Tuple

from mmengine.logging import print_log
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS
from PIL import Image

from mmuss.utils.label_checks import check_label_values


class SampleLoadError(RuntimeError):
    """A sample could not be loaded; the message names its files."""


@DATASETS.register_module()
class BaseUSSDataset(BaseSegDataset):
    """mmseg's folder dataset with checks that name the file at fault.

    The base of every mmuss dataset. It behaves like
    :class:`mmseg.datasets.BaseSegDataset` (``data_root``, ``data_prefix``
    with ``img_path``/``seg_map_path``, suffixes, ``ann_file`` lists), and
    adds:

    - an empty dataset (wrong folder, not converted) is an error naming the
      folder or list searched;
    - files a split lists but that do not exist (an image or label named in
      ``ann_file``, a label without its image or an image without its label
      in folder mode) are an error naming them, raised when the dataset is
      built (``missing_files='skip'`` drops those samples with a warning
      giving their count);
    - an image and label of different sizes are an error naming both files
      and both sizes (instead of a collate or metric shape error later);
    - any failure of the pipeline on a sample (missing, unreadable or corrupt
      image or label) is re-raised as :class:`SampleLoadError` naming the
      sample's image and label files;
    - the loaded label map must hold only values in ``[0, C)`` and
      ``ignore_index`` (C = number of ``classes``); otherwise a
      ``ValueError`` names the label file and the offending values.

    Args:
        missing_files (str): ``'error'`` (default) or ``'skip'``.
        **kwargs: :class:`BaseSegDataset` arguments.
    """

    def __init__(self, *args, missing_files: str = 'error', **kwargs) -> None:
        if missing_files not in ('error', 'skip'):
            raise ValueError(
                'missing_files must be "error" or "skip", got '
                f'{missing_files!r}'
            )
        self.missing_files = missing_files
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        """List the samples; an empty dataset is an error naming where
        images were looked for, missing files are an error naming them."""
        data_list = self._drop_missing(super().load_data_list())
        if not data_list:
            where = self.ann_file or self.data_prefix.get('img_path')
            raise FileNotFoundError(
                f'{type(self).__name__} found no image (suffix '
                f'{self.img_suffix!r}) in {where}; check data_root, '
                'data_prefix and that the dataset was converted (README, '
                '"Datasets")'
            )
        return data_list

    def _drop_missing(self, data_list: List[dict]) -> List[dict]:
        """Check that every listed image and label exists (local files)."""
        if self.backend_args:  # remote storage: nothing to stat cheaply
            return data_list
        missing = [
            path
            for info in data_list
            for path in (info.get('img_path'), info.get('seg_map_path'))
            if path is not None and not osp.isfile(path)
        ]
        missing += self._labels_without_images(data_list)
        if not missing:
            return data_list
        where = self.ann_file or self.data_prefix.get('img_path')
        listing = ', '.join(missing[:10]) + (
            f' (+{len(missing) - 10} more)' if len(missing) > 10 else ''
        )
        if self.missing_files == 'error':
            raise FileNotFoundError(
                f'{type(self).__name__} ({where}): {len(missing)} files of '
                f'the split do not exist: {listing}. Restore them (or '
                're-run the converter / generator), or set '
                "missing_files='skip' to leave those samples out"
            )
        missing_set = set(missing)
        kept = [
            info
            for info in data_list
            if info.get('img_path') not in missing_set
            and info.get('seg_map_path') not in missing_set
        ]
        print_log(
            f'{type(self).__name__} ({where}): skipping '
            f'{len(data_list) - len(kept)} samples with missing files '
            f'({len(missing)} files: {listing})',
            logger='current',
            level=logging.WARNING,
        )
        return kept

    def _labels_without_images(self, data_list: List[dict]) -> List[str]:
        """In folder mode, the images of label files that have none (an
        image deleted from a split would otherwise go unnoticed)."""
        img_dir = self.data_prefix.get('img_path')
        ann_dir = self.data_prefix.get('seg_map_path')
        if self.ann_file or not ann_dir or not osp.isdir(ann_dir):
            return []
        listed = {info.get('seg_map_path') for info in data_list}
        missing = []
        for folder, _, names in os.walk(ann_dir):
            for name in sorted(names):
                if not name.endswith(self.seg_map_suffix):
                    continue
                label = osp.join(folder, name)
                if label in listed:
                    continue
                stem = osp.relpath(label, ann_dir)[: -len(self.seg_map_suffix)]
                missing.append(osp.join(img_dir, stem + self.img_suffix))
        return sorted(missing)

    def get_data_info(self, idx: int) -> dict:
        """The sample's annotation, with the dataset's ``data_root`` (read
        by transforms that locate derived files, e.g.
        :class:`LoadPseudoMask`)."""
        data_info = super().get_data_info(idx)
        data_info['data_root'] = self.data_root
        return data_info

    def prepare_data(self, idx: int) -> Any:
        """Run the pipeline on sample ``idx`` and validate its labels."""
        data_info = self.get_data_info(idx)
        # from the file headers, before any transform resizes either
        mismatch = _size_mismatch(data_info)
        if mismatch:
            raise SampleLoadError(mismatch)
        try:
            data = self.pipeline(data_info)
        except Exception as error:
            raise SampleLoadError(
                f'failed to load sample {idx} of {type(self).__name__} '
                f'(img_path={data_info.get("img_path")}, '
                f'seg_map_path={data_info.get("seg_map_path")}): '
                f'{type(error).__name__}: {error}'
            ) from error
        if data is not None:
            self._check_sizes(data, data_info)
            self._check_labels(data, data_info.get('seg_map_path'))
        return data

    @staticmethod
    def _check_sizes(data: dict, data_info: dict) -> None:
        """The label must have the size of the image after the pipeline
        or, where the pipeline loads it after resizing the image (mmseg's
        test pipelines), the image's original size."""
        sample = data.get('data_samples') if isinstance(data, dict) else None
        inputs = data.get('inputs') if isinstance(data, dict) else None
        if sample is None or inputs is None or 'gt_sem_seg' not in sample:
            return
        allowed = {tuple(inputs.shape[-2:])}
        if sample.metainfo.get('ori_shape') is not None:
            allowed.add(tuple(sample.metainfo['ori_shape'][:2]))
        if tuple(sample.gt_sem_seg.shape) not in allowed:
            raise SampleLoadError(
                f'image {data_info.get("img_path")} is '
                f'{tuple(inputs.shape[-2:])} after the pipeline but label '
                f'{data_info.get("seg_map_path")} is '
                f'{tuple(sample.gt_sem_seg.shape)}; check the pipeline'
            )

    def _check_labels(self, data: dict, source: str | None) -> None:
        classes = self.metainfo.get('classes')
        sample = data.get('data_samples') if isinstance(data, dict) else None
        if not classes or sample is None or 'gt_sem_seg' not in sample:
            return
        check_label_values(
            sample.gt_sem_seg.data, len(classes), self.ignore_index, source
        )


def _file_size(path: Optional[str]) -> Optional[Tuple[int, int]]:
    """(height, width) from an image header, or None when unreadable."""
    if not path or not osp.isfile(path):
        return None
    try:
        with Image.open(path) as image:
            width, height = image.size
    except Exception:  # unreadable: reported by the loading error itself
        return None
    return height, width


def _size_mismatch(data_info: dict) -> Optional[str]:
    """A message naming both files when image and label sizes differ."""
    image, label = data_info.get('img_path'), data_info.get('seg_map_path')
    image_size, label_size = _file_size(image), _file_size(label)
    if image_size is None or label_size is None or image_size == label_size:
        return None
    return (
        f'image {image} is {image_size[0]}x{image_size[1]} (HxW) but its '
        f'label {label} is {label_size[0]}x{label_size[1]}; they must have '
        'the same size'
    )
