# Copyright (c) mmuss contributors. All rights reserved.
from .hungarian_iou_metric import HungarianIoUMetric
from .label_free_score_metric import LABEL_FREE_SCORES, LabelFreeScoreMetric

__all__ = ['HungarianIoUMetric', 'LABEL_FREE_SCORES', 'LabelFreeScoreMetric']
