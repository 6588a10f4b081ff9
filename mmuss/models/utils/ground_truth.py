# Copyright (c) mmuss contributors. All rights reserved.
from typing import Sequence

from mmseg.structures import SegDataSample
from mmseg.utils import SampleList


def strip_ground_truth(
    data_samples: SampleList, label_fields: Sequence[str] = ('gt_sem_seg',)
) -> SampleList:
    """Copies of data samples without their ground-truth label fields.

    The unsupervised parts of a model (method heads, their losses, the
    cluster probe) receive these copies, so no ground-truth label can reach
    their parameters; only the supervised linear probe gets the originals.

    Args:
        data_samples (list[SegDataSample]): The batch's samples.
        label_fields (Sequence[str]): Data fields to drop. Defaults to
            ``('gt_sem_seg',)``.

    Returns:
        list[SegDataSample]: New samples with the same metainfo and all
        other data fields (shared, not copied).
    """
    stripped = []
    for sample in data_samples:
        copy = SegDataSample(metainfo=sample.metainfo)
        copy.set_data(
            {
                key: sample.get(key)
                for key in sample.keys()
                if key not in label_fields
            }
        )
        stripped.append(copy)
    return stripped
