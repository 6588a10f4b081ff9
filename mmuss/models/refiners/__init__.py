# Copyright (c) mmuss contributors. All rights reserved.
from .low_level_cue_refiner import LowLevelCueRefiner

__all__ = ['LowLevelCueRefiner']
