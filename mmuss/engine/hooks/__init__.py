# Copyright (c) mmuss contributors. All rights reserved.
from .class_count_check_hook import ClassCountCheckHook

__all__ = ['ClassCountCheckHook']
