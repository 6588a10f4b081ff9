# Copyright (c) mmuss contributors. All rights reserved.
__version__ = '0.1.0'


def parse_version_info(version_str: str) -> tuple:
    """Split a version string such as ``'0.1.0'`` into a tuple of ints."""
    return tuple(
        int(part) for part in version_str.split('.') if part.isdigit()
    )


version_info = parse_version_info(__version__)
