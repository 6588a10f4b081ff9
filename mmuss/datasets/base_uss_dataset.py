# Copyright (c) mmuss contributors. All rights reserved.
from typing import Any, List

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

    - an empty dataset (wrong folder, not converted) is an error naming the
      folder or list searched;
    - any failure of the pipeline on a sample (missing, unreadable or corrupt
      image or label) is re-raised as :class:`SampleLoadError` naming the
      sample's image and label files;
    - the loaded label map must hold only values in ``[0, C)`` and
      ``ignore_index`` (C = number of ``classes``); otherwise a
      ``ValueError`` names the label file and the offending values.

    Args:
        **kwargs: :class:`BaseSegDataset` arguments.
    """

    def load_data_list(self) -> List[dict]:
        """List the samples; an empty dataset is an error naming where
        images were looked for."""
        data_list = super().load_data_list()
        if not data_list:
            where = self.ann_file or self.data_prefix.get('img_path')
            raise FileNotFoundError(
                f'{type(self).__name__} found no image (suffix '
                f'{self.img_suffix!r}) in {where}; check data_root, '
                'data_prefix and that the dataset was converted (README, '
                '"Datasets")'
            )
        return data_list

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
