# Copyright (c) mmuss contributors. All rights reserved.
"""Helpers of the speed benchmarks in ``tools/analysis_tools/``.

The tools measure a config as it trains and evaluates: their batches come
from the config's own dataloaders (dataset, wrappers and pipeline), so
whatever views or maps a method's pipeline packs are in them, and a
training phase is whatever the config's hooks set before the first step.
When the config's data is absent (or with ``--synthetic``) the innermost
image dataset is replaced by generated synthetic scenes at the training
crop size, keeping the wrappers and the pipeline; files an offline tool
derives from the images (KNN lists, pseudo masks) are then made by that
tool, which the missing file names (:class:`MissingDerivedFileError`).

Every timed region goes through :func:`timed`, whose clock
(:func:`perf_counter`, looked up at each call) tests can replace.
"""

import argparse
import copy
import json
import logging
import multiprocessing
import os
import os.path as osp
import shlex
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from time import perf_counter
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
)

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.registry import init_default_scope
from PIL import Image

from .file_checks import MissingDerivedFileError

SYNTHETIC_IMAGES = 32


def timed(function: Callable[[], Any], device: Optional[torch.device] = None):
    """Seconds one call of ``function`` takes (CUDA work included).

    Returns:
        tuple: ``(result of function, seconds)``.
    """
    start = perf_counter()
    result = function()
    if device is not None and device.type == 'cuda':
        torch.cuda.synchronize(device)
    return result, perf_counter() - start


def print_table(title: str, header: Sequence[str], rows: List[list]) -> None:
    """Print ``rows`` under ``title`` as left-aligned columns."""
    widths = [
        max(len(str(x)) for x in column) for column in zip(header, *rows)
    ]
    print(f'\n{title}')
    print('  '.join(str(h).ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print('  '.join(str(c).ljust(w) for c, w in zip(row, widths)))


def quiet_logs() -> None:
    """Keep MMEngine's reports (initialisation, environment) out of the
    benchmark output."""
    from mmengine.logging import MMLogger

    MMLogger.get_current_instance().setLevel(logging.ERROR)


def peak_memory_mb(device: torch.device) -> float:
    """Peak memory of the process: the CUDA allocator's peak, or the peak
    resident set size on the CPU."""
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_fresh_process(function: Callable, *args, **kwargs):
    """Run ``function`` in a new (spawned) process, whose peak memory is
    its own, and return its result."""
    context = multiprocessing.get_context('spawn')
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(function, *args, **kwargs).result()


def default_device() -> str:
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def scene_crf_inputs(
    num_images: int, size: int, num_classes: int
) -> Tuple[List[np.ndarray], List[np.ndarray]]:
    """Synthetic scenes and smooth random class probabilities for the dense
    CRF (a pure-noise image would make its bilateral lattice unrealistically
    large).

    Returns:
        tuple: ``(images, probabilities)``, (H, W, 3) uint8 and
        (num_classes, H, W) float32 arrays.
    """
    from mmuss.datasets.synthetic import generate_scene

    images = [generate_scene(0, i, size)[0] for i in range(num_images)]
    logits = torch.randn(num_images, num_classes, size // 8, size // 8)
    probs = F.interpolate(logits, size=(size, size), mode='bilinear')
    return images, list(probs.softmax(1).numpy())


# --------------------------------------------------------------------------
# Configs and their data


def repository_config(*parts: str) -> str:
    """Path of a config of this repository (the tools' defaults), e.g.
    ``repository_config('stego', 'dino_vits8_cocostuff27.py')``."""
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    return osp.join(root, 'configs', *parts)


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """``--batch-size``, ``--steps`` and ``--warmup`` of the tools that
    time training steps."""
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)


def add_config_arguments(
    parser: argparse.ArgumentParser, default_config: str
) -> None:
    """The arguments of the tools that run a config: ``config``,
    ``--cfg-options``, ``--device``, ``--synthetic``, ``--size`` and
    ``--synthetic-images``."""
    parser.add_argument('config', nargs='?', default=default_config)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. key1=value1',
    )
    parser.add_argument('--device', default=default_device())
    parser.add_argument(
        '--synthetic',
        action='store_true',
        help="replace the config's image dataset by synthetic scenes "
        '(automatic when its data is absent)',
    )
    parser.add_argument(
        '--size',
        type=int,
        help='side of the synthetic scenes; default: the data '
        "preprocessor's size (the training crop), else 224",
    )
    parser.add_argument(
        '--synthetic-images',
        type=int,
        default=SYNTHETIC_IMAGES,
        help='number of synthetic scenes',
    )


def load_config(
    path: str, cfg_options: Optional[dict] = None, work_dir: str = ''
) -> Config:
    """The config with its overrides, its default scope set, the backbone
    randomly initialised (speed does not depend on the weights; no
    checkpoint is needed) and, when given, the ``work_dir`` of the runs
    and files of the tools."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.model.backbone.init_cfg = None
    if work_dir:
        cfg.work_dir = work_dir
    cfg.log_level = 'ERROR'
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return cfg


def crop_size(cfg: Config, size: Optional[int] = None) -> int:
    """``size``, else the side the data preprocessor pads to (the training
    crop), else 224."""
    if size is not None:
        return size
    crop = (cfg.model.get('data_preprocessor') or {}).get('size')
    return int(crop[0]) if crop else 224


def innermost_dataset(dataset_cfg: dict) -> dict:
    """The image dataset under the wrappers of ``dataset_cfg`` (followed by
    their ``dataset`` key), itself when it wraps nothing."""
    while 'dataset' in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg


def write_synthetic_scenes(
    data_root: str, size: int, num_images: int, num_classes: int
) -> None:
    """Generate ``num_images`` training scenes of ``size`` px in
    ``data_root``; their class ids are folded into ``num_classes`` classes
    (ids modulo ``num_classes``) for configs with fewer classes than the
    scenes."""
    from mmuss.datasets.synthetic import (
        SYNTHETIC_CLASSES,
        generate_synthetic_scenes,
    )

    generate_synthetic_scenes(
        data_root, num_train=num_images, num_val=0, size=size
    )
    if num_classes >= len(SYNTHETIC_CLASSES):
        return
    folder = osp.join(data_root, 'annotations', 'train')
    for name in sorted(os.listdir(folder)):
        path = osp.join(folder, name)
        label = np.asarray(Image.open(path))
        folded = np.where(label == 255, 255, label % num_classes)
        Image.fromarray(folded.astype(np.uint8)).save(path)


def use_synthetic_scenes(dataset_cfg: dict, data_root: str) -> None:
    """Replace, in place, the innermost image dataset of ``dataset_cfg`` by
    the scenes of :func:`write_synthetic_scenes` in ``data_root``, keeping
    its pipeline and the wrappers around it."""
    from mmuss.datasets.synthetic.generator import META_FILE

    with open(osp.join(data_root, META_FILE)) as file:
        meta = json.load(file)
    inner = innermost_dataset(dataset_cfg)
    pipeline = copy.deepcopy(inner.get('pipeline', []))
    inner.clear()
    inner.update(
        type='SyntheticScenesDataset',
        data_root=data_root,
        split='train',
        num_train=meta['num_train'],
        num_val=0,
        image_size=meta['size'],
        pipeline=pipeline,
    )


def drop_class_count_check(cfg: Config) -> None:
    """Remove ``ClassCountCheckHook`` from a config run on synthetic
    scenes: their 11 classes cannot match a config with more (speed does
    not depend on the class ids of the labels)."""
    from mmuss.datasets.synthetic import SYNTHETIC_CLASSES

    if cfg.model.num_classes <= len(SYNTHETIC_CLASSES):
        return  # the labels were folded to the config's classes
    hooks = cfg.get('custom_hooks', [])
    kept = [hook for hook in hooks if hook['type'] != 'ClassCountCheckHook']
    if len(kept) != len(hooks):
        print(
            f'synthetic scenes have {len(SYNTHETIC_CLASSES)} classes, the '
            f'config {cfg.model.num_classes}: ClassCountCheckHook left out',
            flush=True,
        )
        cfg.custom_hooks = kept


def _first_sample(cfg: Config, dataloader: str) -> None:
    """Build the dataloader's dataset (wrappers included) and load its
    first sample: fails as the run would on missing data or files."""
    from mmseg.registry import DATASETS

    dataset = DATASETS.build(copy.deepcopy(cfg[dataloader]['dataset']))
    dataset[0]


def missing_derived_file(
    error: BaseException,
) -> Optional[MissingDerivedFileError]:
    """The :class:`MissingDerivedFileError` that caused ``error`` (e.g.
    inside a dataset's ``SampleLoadError``), or None."""
    while error is not None:
        if isinstance(error, MissingDerivedFileError):
            return error
        error = error.__cause__ or error.__context__
    return None


def data_is_present(cfg: Config, dataloader: str) -> bool:
    """Whether the innermost image dataset of the dataloader can be built
    and its first image loaded (derived files are checked later)."""
    from mmseg.registry import DATASETS

    inner = copy.deepcopy(innermost_dataset(cfg[dataloader]['dataset']))
    try:
        DATASETS.build(inner)[0]
    except AssertionError:  # mmseg asserts that its ann_file exists
        return False
    except (FileNotFoundError, IndexError, RuntimeError) as error:
        return missing_derived_file(error) is not None
    return True


def run_offline_tool(tool: str, cfg: Config, dataloader: str, device: str):
    """Run an offline tool of the repository on ``cfg`` (written to its
    ``work_dir``) for ``dataloader``'s dataset."""
    words = shlex.split(tool)
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    script = next(
        (
            path
            for path in (words[0], osp.join(root, words[0]))
            if osp.isfile(path)
        ),
        None,
    )
    if script is None:
        raise FileNotFoundError(
            f'offline tool {words[0]} not found (run from the repository root)'
        )
    config = osp.join(cfg.work_dir, 'derived_files_config.py')
    cfg.dump(config)
    options = [w if w != 'CONFIG' else config for w in words[1:]]
    if 'CONFIG' not in words:
        options.insert(0, config)
    command = [sys.executable, script, *options]
    command += ['--dataloader', dataloader, '--num-workers', '0']
    command += ['--device', device]
    print(f'making derived files: python {tool}', flush=True)
    path = os.environ.get('PYTHONPATH')
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, path]))
    )
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(
            f'`python {tool}` failed on the synthetic scenes:\n'
            f'{result.stderr[-3000:]}'
        )


def prepare_data(
    cfg: Config,
    dataloaders: Sequence[str],
    synthetic: bool = False,
    size: Optional[int] = None,
    num_images: int = SYNTHETIC_IMAGES,
    device: str = 'cpu',
) -> bool:
    """Make the dataloaders of ``cfg`` loadable, in place.

    With ``synthetic``, or when the config's data is absent (a notice is
    printed), their innermost image datasets are replaced by synthetic
    scenes of ``size`` px (default: :func:`crop_size`) in the config's
    ``work_dir``. Derived files the data needs are then made by the offline
    tool that each missing file names; on the config's own data a missing
    derived file is an error naming it and its tool.

    Returns:
        bool: Whether the data are synthetic.

    Raises:
        MissingDerivedFileError: A derived file is missing from the config's
            own data, or no tool makes it.
    """
    if not synthetic:
        absent = [d for d in dataloaders if not data_is_present(cfg, d)]
        if absent:
            print(
                f'the data of {", ".join(absent)} are absent: using '
                'synthetic scenes (--synthetic)',
                flush=True,
            )
            synthetic = True
    if synthetic:
        root = osp.join(cfg.work_dir, 'synthetic_scenes')
        write_synthetic_scenes(
            root, crop_size(cfg, size), num_images, cfg.model.num_classes
        )
        for dataloader in dataloaders:
            use_synthetic_scenes(cfg[dataloader]['dataset'], root)
        drop_class_count_check(cfg)
    for dataloader in dataloaders:
        made = []
        while True:
            try:
                _first_sample(cfg, dataloader)
                break
            except (FileNotFoundError, RuntimeError) as raised:
                error = missing_derived_file(raised)
                if error is None:
                    raise
                if not synthetic or not error.tool or error.tool in made:
                    raise MissingDerivedFileError(
                        f'{error} (the benchmark needs the derived files '
                        'of its data)',
                        error.tool,
                    ) from error
                run_offline_tool(error.tool, cfg, dataloader, device)
                made.append(error.tool)
    return synthetic


def loader_cfg(cfg: Config, dataloader: str, batch_size: int) -> dict:
    """The dataloader's config with ``batch_size``, loading in this
    process (no workers)."""
    loader = copy.deepcopy(cfg[dataloader])
    loader.update(batch_size=batch_size, num_workers=0)
    loader['persistent_workers'] = False
    return loader


def first_batch(cfg: Config, dataloader: str, batch_size: int) -> dict:
    """The first batch of ``batch_size`` of the config's dataloader."""
    from mmengine.runner import Runner

    return next(
        iter(Runner.build_dataloader(loader_cfg(cfg, dataloader, batch_size)))
    )


# --------------------------------------------------------------------------
# Training


class _StopTrainingError(Exception):
    """Raised by :class:`_StopBeforeTraining` to end ``Runner.train``."""


class _StopBeforeTraining(Hook):
    """Ends ``Runner.train`` after every other hook's ``before_train``."""

    def before_train(self, runner) -> None:
        raise _StopTrainingError


def build_training(
    cfg: Config, batch_size: int, device: str
) -> Tuple[torch.nn.Module, Any, dict]:
    """The config's model, optimiser wrapper and first training batch, as
    its runner leaves them before the first step: weights initialised and
    every hook's ``before_train`` run (e.g. the initialisation of a head's
    prototypes, which starts its first phase).

    Args:
        cfg (Config): A config of :func:`load_config` whose data
            :func:`prepare_data` made loadable.
        batch_size (int): Training batch size.
        device (str): Where the model runs.

    Returns:
        tuple: ``(model, optim_wrapper, batch)``.
    """
    from mmengine.runner import Runner

    cfg = copy.deepcopy(cfg)
    cfg.train_dataloader = loader_cfg(cfg, 'train_dataloader', batch_size)
    for mode in ('val', 'test'):
        for key in ('dataloader', 'cfg', 'evaluator'):
            cfg[f'{mode}_{key}'] = None
    cfg.load_from, cfg.resume = None, False
    # names of its own: MMEngine keeps visualizer instances by name (the
    # configs name theirs 'visualizer'), and a later runner of this
    # process would otherwise write to this run's (deleted) work_dir
    cfg.experiment_name = f'benchmark_{osp.basename(cfg.work_dir)}'
    if cfg.get('visualizer'):
        cfg.visualizer.name = cfg.experiment_name
    runner = Runner.from_cfg(cfg)
    runner.model.to(torch.device(device))
    runner.register_hook(_StopBeforeTraining(), priority='LOWEST')
    try:
        runner.train()
    except _StopTrainingError:
        pass
    batch = next(iter(runner.train_dataloader))
    model = runner.model
    model.train()
    return model, runner.optim_wrapper, batch


def time_train_steps(
    model: torch.nn.Module, optim_wrapper, batch: dict, steps: int, warmup: int
) -> float:
    """Training steps/s of ``steps`` steps on ``batch`` after ``warmup``
    untimed ones."""
    for _ in range(warmup):
        model.train_step(batch, optim_wrapper)
    device = next(model.parameters()).device

    def run():
        for _ in range(steps):
            model.train_step(batch, optim_wrapper)

    _, seconds = timed(run, device)
    return steps / seconds


@contextmanager
def module_forward_timers(
    model: torch.nn.Module, names: Sequence[str]
) -> Iterator[Dict[str, float]]:
    """Seconds spent in the forward of each named submodule while the
    block runs (hooks around ``forward``, so calls through the module's
    ``__call__`` only; device-synchronised on CUDA).

    Args:
        model (nn.Module): The model.
        names (Sequence[str]): Dotted submodule names, e.g.
            ``'decode_head.loss_ph'``; an unknown name is an error listing
            the model's top-level children.

    Yields:
        dict[str, float]: Name -> accumulated seconds, filled as it runs.
    """
    totals = {name: 0.0 for name in names}
    starts: Dict[str, float] = {}
    handles = []
    device = next(model.parameters()).device
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    for name in names:
        try:
            module = model.get_submodule(name)
        except AttributeError as error:
            children = [child for child, _ in model.named_children()]
            raise ValueError(
                f'no submodule {name!r} (top level: {children})'
            ) from error

        def before(_module, _args, name=name):
            sync()
            starts[name] = perf_counter()

        def after(_module, _args, _output, name=name):
            sync()
            totals[name] += perf_counter() - starts.pop(name)

        handles.append(module.register_forward_pre_hook(before))
        handles.append(module.register_forward_hook(after))
    try:
        yield totals
    finally:
        for handle in handles:
            handle.remove()


def time_module_shares(
    model: torch.nn.Module,
    optim_wrapper,
    batch: dict,
    steps: int,
    names: Sequence[str],
) -> Dict[str, float]:
    """Seconds per training step (``'step'``) and in the forward of each
    named submodule, over ``steps`` more steps on ``batch``."""
    with module_forward_timers(model, names) as totals:
        steps_per_s = time_train_steps(model, optim_wrapper, batch, steps, 0)
    shares = {name: seconds / steps for name, seconds in totals.items()}
    shares['step'] = 1.0 / steps_per_s
    return shares


def time_head_loss(model: torch.nn.Module, batch: dict, steps: int) -> float:
    """Seconds per step of the head alone: its codes and
    ``loss_by_codes`` forward and backward, on the batch's frozen features
    and views (computed once, untimed)."""
    head = model.decode_head
    data = model.data_preprocessor(batch, True)
    inputs, samples = data['inputs'], data['data_samples']
    with torch.no_grad():
        head_inputs = model.training_head_inputs(inputs, samples)
    device = inputs.device

    def run():
        for _ in range(steps):
            codes = model.head_codes(head_inputs)
            losses = head.loss_by_codes(codes, head_inputs)
            loss, _ = model.parse_losses(losses)
            if isinstance(loss, torch.Tensor) and loss.requires_grad:
                loss.backward()
            model.zero_grad(set_to_none=True)

    _, seconds = timed(run, device)
    return seconds / steps


def train_speed(
    cfg: Config,
    batch_size: int,
    steps: int,
    warmup: int,
    device: str,
    cache_dir: Optional[str] = None,
    head_loss: bool = False,
    module_names: Sequence[str] = (),
) -> Dict[str, float]:
    """Training speed of a prepared config (:func:`prepare_data`).

    Args:
        cfg (Config): The config.
        batch_size (int): Training batch size.
        steps (int): Timed steps (one batch, repeated).
        warmup (int): Untimed steps before them.
        device (str): Where the model runs.
        cache_dir (str, optional): Train through a frozen-feature cache in
            this folder (filled by the warm-up steps, as from the second
            epoch on).
        head_loss (bool): Also time the head alone
            (:func:`time_head_loss`).
        module_names (Sequence[str]): Submodules whose forward time per
            step is reported (:func:`time_module_shares`, ``steps`` more
            steps).

    Returns:
        dict: ``steps_per_s``, ``images_per_s``, ``peak_mb``, ``size``
        (the width of the batch's images), with ``head_loss``
        ``head_loss_s`` and with ``module_names`` ``module_s`` (name ->
        seconds per step, ``'step'`` the whole step of that run).
    """
    quiet_logs()
    cfg = copy.deepcopy(cfg)
    cfg.model.feature_cache = (
        dict(cache_dir=cache_dir) if cache_dir is not None else None
    )
    model, optim_wrapper, batch = build_training(cfg, batch_size, device)
    quiet_logs()
    steps_per_s = time_train_steps(model, optim_wrapper, batch, steps, warmup)
    result = dict(
        steps_per_s=steps_per_s,
        images_per_s=steps_per_s * batch_size,
        peak_mb=peak_memory_mb(torch.device(device)),
        size=int(batch['inputs'][0].shape[-1]),
    )
    if head_loss:
        result['head_loss_s'] = time_head_loss(model, batch, steps)
    if module_names:
        result['module_s'] = time_module_shares(
            model, optim_wrapper, batch, steps, module_names
        )
    return result
