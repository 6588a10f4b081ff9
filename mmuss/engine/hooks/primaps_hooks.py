# Copyright (c) mmuss contributors. All rights reserved.
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmseg.registry import HOOKS
from torch import Tensor

from mmuss.models.probes.cluster_probe import spherical_kmeans
from mmuss.models.utils.primaps import mask_mean_features


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


def principal_components(
    total: Tensor, outer: Tensor, count: Tensor, num_components: int
) -> Tensor:
    """First principal components from accumulated feature moments.

    The eigenvectors of the covariance ``E[f f^T] - E[f] E[f]^T`` with the
    largest eigenvalues, each oriented so that the mean feature projects
    onto it non-negatively (an eigenvector's sign is arbitrary; prototypes
    pointing away from the data would never be assigned).

    Args:
        total (Tensor): (C,) sum of features.
        outer (Tensor): (C, C) sum of outer products.
        count (Tensor): Number of features.
        num_components (int): K.

    Returns:
        Tensor: (K, C) unit vectors.
    """
    mean = total / count
    covariance = outer / count - torch.outer(mean, mean)
    _, vectors = torch.linalg.eigh(covariance)
    components = vectors[:, -num_components:].flip(dims=[1]).T
    sign = torch.where(components @ mean >= 0, 1.0, -1.0).to(components)
    return components * sign[:, None]


@HOOKS.register_module()
class PrimapsInitHook(Hook):
    """Initialise PriMaPs-EM prototypes before training (PriMaPs Sec. 3.2).

    Accumulates the first and second moments of the head's features over
    the first ``num_images`` training images (2,975 in the paper, the
    Cityscapes training set), summed over all ranks, takes the first K
    principal components as prototypes (identical on every rank) and starts
    the head's cosine k-means phase (Eq. 9) for ``kmeans_epochs`` epochs of
    the training loader (or ``kmeans_iters`` iterations). A resumed run
    whose head is already initialised is left alone.

    Args:
        num_images (int): Images for the PCA. Defaults to 2975.
        kmeans_epochs (int): Length of the k-means phase. Defaults to 2.
        kmeans_iters (int, optional): Length in iterations instead.
        init (str): ``'pca'`` (the paper, default): the first K principal
            components. ``'kmeans'``: label-free alternative, spherical
            k-means with k-means++ seeding and 10 restarts
            (:func:`spherical_kmeans`) on up to ``max_points`` features
            sampled from the same images (rank 0's result, broadcast). On
            small data the few gradient k-means steps that follow may not
            move principal components far enough. ``'mask_kmeans'``: the
            same k-means on mask-level features, every feature replaced by
            the mean of its PriMaPs mask (:func:`mask_mean_features`;
            patches in no mask left out), so it clusters the regions the
            proposals found; label-free, not in the paper.
        max_points (int): Feature sample of the k-means inits.
            Defaults to 20000.
    """

    priority = 'LOW'
    INITS = ('pca', 'kmeans', 'mask_kmeans')

    def __init__(
        self,
        num_images: int = 2975,
        kmeans_epochs: int = 2,
        kmeans_iters: Optional[int] = None,
        init: str = 'pca',
        max_points: int = 20000,
    ) -> None:
        if init not in self.INITS:
            raise ValueError(f'init must be one of {self.INITS}, got {init!r}')
        self.num_images = num_images
        self.kmeans_epochs = kmeans_epochs
        self.kmeans_iters = kmeans_iters
        self.init = init
        self.max_points = max_points

    def before_train(self, runner: Runner) -> None:
        model = _unwrap(runner.model)
        head = model.decode_head
        if bool(head.initialized):
            print_log(
                'PriMaPs prototypes restored from the checkpoint',
                logger='current',
            )
            return
        total, outer, count, sample = self._moments(runner, model)
        if self.init == 'pca':
            components = principal_components(
                total, outer, count, head.num_prototypes
            )
        else:
            generator = torch.Generator().manual_seed(0)
            components = spherical_kmeans(
                sample.float().cpu(), head.num_prototypes, generator=generator
            ).to(head.prototypes.student.device)
            if dist.is_initialized():
                dist.broadcast(components, src=0)
        iters = self.kmeans_iters
        if iters is None:
            iters = self.kmeans_epochs * len(runner.train_dataloader)
        head.set_prototypes(components.to(head.prototypes.student), iters)
        print_log(
            f'PriMaPs prototypes ({self.init}) from {int(count)} features; '
            f'{iters} k-means iterations follow',
            logger='current',
        )

    @torch.no_grad()
    def _moments(self, runner: Runner, model):
        head = model.decode_head
        world = dist.get_world_size() if dist.is_initialized() else 1
        quota = -(-self.num_images // world)
        device = head.prototypes.student.device
        channels = head.prototypes.student.shape[1]
        total = torch.zeros(channels, dtype=torch.float64, device=device)
        outer = torch.zeros(
            channels, channels, dtype=torch.float64, device=device
        )
        count = torch.zeros((), dtype=torch.float64, device=device)
        seen, sample, stride = 0, [], 1
        was_training = model.training
        model.eval()
        for batch in runner.train_dataloader:
            data = model.data_preprocessor(batch, True)
            inputs = data['inputs']
            backbone_feats = model.extract_feat(model.image_inputs(inputs))
            feats = model.head_codes(
                model.head_inputs(
                    inputs,
                    backbone_feats,
                    [sample.metainfo for sample in data['data_samples']],
                )
            )
            flat = feats.permute(0, 2, 3, 1).reshape(-1, channels).double()
            if self.init != 'pca':
                if not sample:  # every stride-th feature: <= max_points
                    per_image = flat.shape[0] // feats.shape[0]
                    stride = -(-quota * per_image // self.max_points)
                points = flat
                if self.init == 'mask_kmeans':
                    masks = head.proposal_maps(
                        feats, backbone_feats, data['data_samples']
                    )
                    points = mask_mean_features(
                        feats, masks, head.ignore_index
                    ).double()
                sample.append(points[::stride])
            total += flat.sum(dim=0)
            outer += flat.T @ flat
            count += flat.shape[0]
            seen += feats.shape[0]
            if seen >= quota:
                break
        model.train(was_training)
        if dist.is_initialized():
            for tensor in (total, outer, count):
                dist.all_reduce(tensor)
        if count == 0:
            raise RuntimeError('PrimapsInitHook saw no training image')
        if head.num_prototypes > channels:
            raise ValueError(
                f'{head.num_prototypes} prototypes cannot be '
                f'initialised from {channels}-d features by PCA'
            )
        points = torch.cat(sample) if sample else None
        if points is not None and len(points) < head.num_prototypes:
            raise ValueError(
                f'init={self.init!r} found {len(points)} features (in '
                f'proposal masks) for {head.num_prototypes} prototypes; '
                'check the proposals (tools/precompute_primaps.py)'
            )
        return total, outer, count, points


@HOOKS.register_module()
class PrimapsEMAHook(Hook):
    """Momentum update of PriMaPs-EM's theta_T (PriMaPs Eq. 11).

    After every ``interval``-th EM iteration (gamma_t = 10), after the
    optimiser step, ``theta_T <- m theta_T + (1 - m) theta_S``. theta_S is
    synchronised by distributed training, so every rank computes the same
    theta_T.

    At the phase change (before the first EM step) the optimizer state is
    reset (``reset_optimizer=True``): upstream runs EM as a separate
    training run with a fresh Adam, so no k-means-phase moments carry over.

    Args:
        interval (int): gamma_t. Defaults to 10.
        reset_optimizer (bool): Fresh optimizer state at the start of EM.
            Defaults to True (upstream); False keeps the moments.
    """

    priority = 'NORMAL'

    def __init__(self, interval: int = 10, reset_optimizer: bool = True):
        self.interval = interval
        self.reset_optimizer = reset_optimizer

    def before_train_iter(
        self, runner: Runner, batch_idx: int, data_batch=None
    ) -> None:
        head = _unwrap(runner.model).decode_head
        first_em_step = bool(head.initialized) and int(head.steps) == int(
            head.kmeans_iters
        )
        if first_em_step and self.reset_optimizer:
            wrappers = runner.optim_wrapper
            wrappers = (
                wrappers.values()
                if hasattr(wrappers, 'values')
                else [wrappers]
            )
            for wrapper in wrappers:
                wrapper.optimizer.state.clear()
            print_log(
                'PriMaPs: EM starts with a fresh optimizer state',
                logger='current',
            )

    def after_train_iter(
        self, runner: Runner, batch_idx: int, data_batch=None, outputs=None
    ) -> None:
        head = _unwrap(runner.model).decode_head
        if not head.in_em_phase:
            return
        em_step = int(head.steps) - int(head.kmeans_iters)
        if em_step % self.interval == 0:
            head.update_teacher()
