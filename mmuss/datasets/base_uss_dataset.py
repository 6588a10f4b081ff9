# Copyright (c) mmuss contributors. All rights reserved.
from typing import Any

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

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

    - any failure of the pipeline on a sample (missing, unreadable or corrupt
      image or label) is re-raised as :class:`SampleLoadError` naming the
      sample's image and label files;
    - the loaded label map must hold only values in ``[0, C)`` and
      ``ignore_index`` (C = number of ``classes``); otherwise a
      ``ValueError`` names the label file and the offending values.

    Args:
        **kwargs: :class:`BaseSegDataset` arguments.
    """

    def prepare_data(self, idx: int) -> Any:
        """Run the pipeline on sample ``idx`` and validate its labels."""
        data_info = self.get_data_info(idx)
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
            self._check_labels(data, data_info.get('seg_map_path'))
        return data

    def _check_labels(self, data: dict, source: str | None) -> None:
        classes = self.metainfo.get('classes')
        sample = data.get('data_samples') if isinstance(data, dict) else None
        if not classes or sample is None or 'gt_sem_seg' not in sample:
            return
        check_label_values(
            sample.gt_sem_seg.data, len(classes), self.ignore_index, source
        )
