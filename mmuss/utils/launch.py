# Copyright (c) mmuss contributors. All rights reserved.
"""Launch helpers shared by ``tools/train.py`` and ``tools/test.py``."""

import os
import os.path as osp

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log


def setup_cpu_distributed(cfg: Config) -> None:
    """Make a distributed launch work on machines without a GPU.

    MMEngine's ``pytorch`` launcher binds every process to a CUDA device and
    wraps the model with ``device_ids=[LOCAL_RANK]``. Without CUDA this
    function initialises the process group with the ``gloo`` backend itself
    (MMEngine then skips its own initialisation) and wraps the model for the
    CPU (``device_ids=None``). With CUDA it does nothing.

    Args:
        cfg (Config): The run's config; ``cfg.launcher`` is read and
            ``cfg.model_wrapper_cfg`` may be set.
    """
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    wrapper = dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False),
    )
    wrapper.update(cfg.get('model_wrapper_cfg') or {})
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


def teardown_distributed() -> None:
    """Destroy the process group, if any, before the interpreter exits.

    Leaving a ``gloo`` group alive until interpreter shutdown lets its
    worker threads be destroyed while still joinable, which aborts the
    process (``terminate called without an active exception``) after a run
    that otherwise succeeded.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()


def set_evaluator_output_dirs(cfg: Config, work_dir: str) -> None:
    """Point Hungarian metrics without an ``output_dir`` into the work dir.

    Validation reports go to ``<work_dir>/val_results`` and test reports to
    ``<work_dir>/test_results`` (``hungarian_metrics.json`` and ``vis/``).

    Args:
        cfg (Config): The run's config, modified in place.
        work_dir (str): The run's work directory.
    """
    for key, folder in (
        ('val_evaluator', 'val_results'),
        ('test_evaluator', 'test_results'),
    ):
        evaluator = cfg.get(key)
        if evaluator is None:
            continue
        metrics = evaluator if isinstance(evaluator, list) else [evaluator]
        if isinstance(evaluator, dict) and 'metrics' in evaluator:
            metrics = evaluator['metrics']
            metrics = metrics if isinstance(metrics, list) else [metrics]
        for metric in metrics:
            if (
                metric.get('type') == 'HungarianIoUMetric'
                and metric.get('output_dir') is None
            ):
                metric['output_dir'] = osp.join(work_dir, folder)


def default_work_dir(config_path: str) -> str:
    """``./work_dirs/<config folder>/<config name>``.

    mmseg uses ``./work_dirs/<config name>``; mmuss's configs reuse names
    across method folders (``configs/baseline/dino_vits8_cocostuff27.py``,
    ``configs/stego/dino_vits8_cocostuff27.py``), so the folder is kept to
    stop one method's run overwriting another's.
    """
    folder = osp.basename(osp.dirname(osp.abspath(config_path)))
    name = osp.splitext(osp.basename(config_path))[0]
    return osp.join('./work_dirs', folder, name)


def world_size_from_env() -> int:
    """Number of processes of a ``torchrun`` launch (1 otherwise)."""
    return int(os.environ.get('WORLD_SIZE', '1'))


def set_global_batch_size(cfg: Config, global_batch_size: int) -> None:
    """Set the per-process training batch so that all processes together
    see ``global_batch_size`` images per step (a paper's batch).

    Raises:
        ValueError: If the global batch is not divisible by the number of
            processes.
    """
    processes = world_size_from_env()
    if global_batch_size % processes:
        raise ValueError(
            f'--global-batch-size {global_batch_size} is not divisible by '
            f'the {processes} processes of this launch'
        )
    cfg.train_dataloader.batch_size = global_batch_size // processes


def log_batch_size(cfg: Config) -> str:
    """Log (and return) the effective training batch: per-process batch
    times the number of processes."""
    loader = cfg.get('train_dataloader')
    if not loader or 'batch_size' not in loader:
        return ''
    processes = world_size_from_env()
    per_process = loader['batch_size']
    message = (
        f'training batch: {per_process} images per process x {processes} '
        f'process(es) = {per_process * processes} images per step'
    )
    if processes > 1:
        message += (
            " (use --global-batch-size to keep a config's batch across "
            'process counts)'
        )
    print_log(message, logger='current')
    return message


def set_hook_option(cfg: Config, hook_type: str, **options) -> None:
    """Set options of a ``custom_hooks`` entry of the config.

    Raises:
        KeyError: If the config has no such hook.
    """
    for hook in cfg.get('custom_hooks', []):
        if hook.get('type') == hook_type:
            hook.update(options)
            return
    raise KeyError(
        f'the config has no {hook_type} in custom_hooks; inherit '
        'configs/_base_/default_runtime.py or add it'
    )
