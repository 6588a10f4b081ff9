# Copyright (c) mmuss contributors. All rights reserved.
import logging
from typing import List, Optional, Sequence

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor


def cosine_cluster_similarity(codes: Tensor, clusters: Tensor) -> Tensor:
    """Cosine similarity of every code vector to every cluster centre.

    STEGO's ``ClusterLookup``: both codes and centres are L2-normalised over
    channels before the inner product.

    Args:
        codes (Tensor): Codes (B, D, H, W).
        clusters (Tensor): Centres (K, D).

    Returns:
        Tensor: Similarities (B, K, H, W) in [-1, 1].
    """
    return torch.einsum(
        'bdhw,kd->bkhw',
        F.normalize(codes, dim=1),
        F.normalize(clusters, dim=1),
    )


def cluster_probe_loss(similarity: Tensor) -> Tensor:
    """Hard cosine k-means objective of the STEGO cluster probe.

    ``-mean_pixels sum_k onehot(argmax_k s)_k * s_k``: maximise the cosine
    similarity of every code to its nearest centre. Minimised by gradient
    descent on the centres, this is spherical (cosine) k-means (STEGO, Sec.
    3.3, "cluster probe"; upstream ``ClusterLookup`` with ``alpha=None``).

    Args:
        similarity (Tensor): Output of :func:`cosine_cluster_similarity`.

    Returns:
        Tensor: Scalar loss.
    """
    assignment = F.one_hot(
        similarity.argmax(dim=1), similarity.shape[1]
    ).permute(0, 3, 1, 2)
    return -(assignment.to(similarity.dtype) * similarity).sum(dim=1).mean()


def kmeans_plus_plus_seeds(
    points: Tensor,
    num_seeds: int,
    existing: Optional[Tensor] = None,
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    """k-means++ seeding (Arthur and Vassilvitskii, 2007) on the sphere.

    Each seed is drawn with probability proportional to the squared cosine
    distance ``(1 - max cos)^2`` to the seeds (and ``existing`` centres)
    chosen so far; the first one uniformly when there are no centres.

    Args:
        points (Tensor): (N, D) candidate vectors.
        num_seeds (int): Number of seeds to draw.
        existing (Tensor, optional): (M, D) centres to stay away from.
        generator (torch.Generator, optional): Random generator.

    Returns:
        Tensor: (num_seeds, D) L2-normalised seeds.
    """
    points = F.normalize(points.float(), dim=1)
    chosen = [] if existing is None else list(F.normalize(existing, dim=1))
    seeds = []
    for _ in range(num_seeds):
        if chosen:
            closest = (points @ torch.stack(chosen).T).max(dim=1).values
            weights = (1 - closest).clamp_min(0) ** 2
            if weights.sum() <= 0:
                weights = torch.ones_like(weights)
        else:
            weights = torch.ones(points.shape[0])
        index = torch.multinomial(weights.cpu(), 1, generator=generator)
        seed = points[index.item()]
        chosen.append(seed)
        seeds.append(seed)
    return torch.stack(seeds)


def spherical_kmeans(
    points: Tensor,
    num_clusters: int,
    restarts: int = 10,
    iters: int = 20,
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    """Cosine (spherical) k-means with k-means++ seeding and restarts.

    Lloyd iterations on L2-normalised points (assign to the most similar
    centre, centre = normalised mean); the run with the highest summed
    similarity (lowest k-means loss, Eq. 9 of PriMaPs) of ``restarts``
    k-means++ seedings is returned.

    Args:
        points (Tensor): (N, D) vectors.
        num_clusters (int): K.
        restarts (int): Seedings tried. Defaults to 10.
        iters (int): Lloyd iterations per seeding. Defaults to 20.
        generator (torch.Generator, optional): Random generator.

    Returns:
        Tensor: (K, D) L2-normalised centres.
    """
    points = F.normalize(points.float(), dim=1)
    best, best_score = None, -float('inf')
    for _ in range(restarts):
        centres = kmeans_plus_plus_seeds(
            points, num_clusters, generator=generator
        )
        for _ in range(iters):
            assignment = (points @ centres.T).argmax(dim=1)
            for k in range(num_clusters):
                members = points[assignment == k]
                if len(members):
                    centres[k] = F.normalize(members.mean(dim=0), dim=0)
        score = (points @ centres.T).max(dim=1).values.sum().item()
        if score > best_score:
            best, best_score = centres, score
    return best


def _code_vectors(codes: Tensor) -> Tensor:
    """Detached (B*H*W, D) vectors of codes (B, D, H, W)."""
    return codes.detach().permute(0, 2, 3, 1).reshape(-1, codes.shape[1])


@MODELS.register_module()
class ClusterProbe(BaseModule):
    """Cosine k-means cluster probe, the unsupervised prediction of STEGO.

    `STEGO <https://arxiv.org/abs/2203.08414>`_ clusters the codes of a
    segmentation head with K learnable centres trained by gradient on the
    hard cosine k-means objective (:func:`cluster_probe_loss`). It is always
    fed detached codes, so it never trains the head. At test time it returns
    ``log_softmax(alpha * cos)``, whose argmax is the cluster id; the
    temperature ``alpha`` only matters for soft outputs (CRF unaries).

    Upstream initialises the centres from a standard normal
    (``init='random'``, default). Because only the centre a code is assigned
    to receives gradient, a centre that wins no code never moves ("dead"
    cluster), and two classes end up sharing one. Optional, label-free
    remedies: ``init='kmeans++'`` seeds the centres from the first training
    batch's codes (spherical k-means with k-means++ seeding and restarts,
    :func:`spherical_kmeans`); ``reseed_interval=N`` re-seeds, every N
    training steps, the centres that won no pixel in those steps (k-means++
    against the live centres); ``reset_steps`` re-seeds all centres at the
    given training steps (upstream's ``reset_probe_steps``, here with
    k-means seeds), e.g. once the head's codes have settled. Seeds come from
    the current batch's codes unless ``seed_bank_size`` > 0: then a bank of
    the most recent training codes (up to ``seed_points_per_step`` random
    code vectors of each step, the last ``seed_bank_size`` kept) is used, so
    a re-seeding sees many images instead of one batch and depends far less
    on which batch it happens to fall on. Under distributed training the
    usage counts are summed over ranks and the centres (computed from rank
    0's codes) broadcast from rank 0, so all ranks keep identical probes.

    Args:
        in_channels (int): Code dimension D.
        num_clusters (int): Number of clusters K (may exceed the number of
            classes; see the Hungarian metric's ``extra_cluster_policy``).
        alpha (float): Inverse temperature of the test-time log-softmax.
            Defaults to 2.0 (STEGO evaluation).
        init (str): ``'random'`` (upstream) or ``'kmeans++'``.
        reseed_interval (int): Steps between dead-cluster re-seeding; 0
            disables it (upstream). Defaults to 0.
        reset_steps (Sequence[int]): Training steps (1-based) at which all
            centres are re-seeded. Defaults to none.
        seed_bank_size (int): Code vectors of recent steps kept for
            seeding; 0 seeds from the current batch only. Defaults to 0.
        seed_points_per_step (int): Code vectors of each step added to the
            bank (a random subset). Defaults to 2048.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(
        self,
        in_channels: int,
        num_clusters: int,
        alpha: float = 2.0,
        init: str = 'random',
        reseed_interval: int = 0,
        reset_steps: Sequence[int] = (),
        seed_bank_size: int = 0,
        seed_points_per_step: int = 2048,
        init_cfg=None,
    ) -> None:
        super().__init__(init_cfg)
        if num_clusters < 1:
            raise ValueError(f'num_clusters must be >= 1, got {num_clusters}')
        if init not in ('random', 'kmeans++'):
            raise ValueError(
                f'init must be "random" or "kmeans++", got {init!r}'
            )
        self.in_channels = in_channels
        self.num_clusters = num_clusters
        self.alpha = alpha
        self.init = init
        self.reseed_interval = reseed_interval
        self.reset_steps = set(int(step) for step in reset_steps)
        if seed_bank_size < 0 or seed_points_per_step < 1:
            raise ValueError(
                'seed_bank_size must be >= 0 and seed_points_per_step >= 1, '
                f'got {seed_bank_size} and {seed_points_per_step}'
            )
        self.seed_bank_size = seed_bank_size
        self.seed_points_per_step = seed_points_per_step
        # Saved as the module's extra state, so a resumed run seeds from
        # the same codes as the uninterrupted one.
        self._seed_bank: List[Tensor] = []
        self.clusters = nn.Parameter(torch.randn(num_clusters, in_channels))
        self.register_buffer('seeded', torch.tensor(init == 'random'))
        self.register_buffer('usage', torch.zeros(num_clusters))
        self.register_buffer('steps', torch.zeros((), dtype=torch.long))

    def get_extra_state(self) -> Tensor:
        """The seed bank as one (N, D + 1) tensor: the code vectors and, in
        the last column, the index of the step chunk each belongs to, so a
        resumed run re-seeds exactly as an uninterrupted one. (A single
        tensor: MMEngine broadcasts the state dict's values between ranks.)
        """
        chunks = [
            torch.cat(
                [chunk.float().cpu(), torch.full((len(chunk), 1), float(i))],
                dim=1,
            )
            for i, chunk in enumerate(self._seed_bank)
        ]
        if not chunks:
            return torch.zeros(0, self.in_channels + 1)
        return torch.cat(chunks)

    def set_extra_state(self, state: Tensor) -> None:
        """Restore the seed bank saved by :meth:`get_extra_state`; a bank
        of other codes (a checkpoint loaded despite a mismatch) is dropped
        with a warning."""
        if state.dim() != 2 or state.shape[1] != self.in_channels + 1:
            print_log(
                f'ClusterProbe seed bank of shape {tuple(state.shape)} does '
                f'not fit {self.in_channels}-d codes; starting with an empty '
                'bank',
                logger='current',
                level=logging.WARNING,
            )
            self._seed_bank = []
            return
        chunk_ids = state[:, -1].long()
        _, counts = torch.unique_consecutive(chunk_ids, return_counts=True)
        device = self.clusters.device
        self._seed_bank = [
            chunk[:, :-1].to(device)
            for chunk in torch.split(state, counts.tolist())
        ]

    def similarity(self, codes: Tensor) -> Tensor:
        """Cosine similarity (B, K, H, W) of codes to the centres."""
        if codes.shape[1] != self.in_channels:
            raise ValueError(
                f'ClusterProbe expects {self.in_channels}-d '
                f'codes, got shape {tuple(codes.shape)}'
            )
        return cosine_cluster_similarity(codes, self.clusters)

    def loss(self, codes: Tensor) -> Tensor:
        """Cosine k-means loss on (detached) codes (B, D, H, W); also seeds
        and re-seeds centres when configured."""
        self.steps += 1
        if self.seed_bank_size > 0:
            self._remember(codes)
        if not bool(self.seeded) or int(self.steps) in self.reset_steps:
            self._set_centres(
                torch.arange(self.num_clusters), self._seed_points(codes)
            )
            self.seeded.fill_(True)
        similarity = self.similarity(codes)
        if self.reseed_interval > 0:
            self._track_usage(similarity, codes)
        return cluster_probe_loss(similarity)

    @torch.no_grad()
    def _remember(self, codes: Tensor) -> None:
        """Add a random subset of this step's code vectors to the seed bank
        and drop the oldest steps beyond ``seed_bank_size`` vectors."""
        points = _code_vectors(codes)
        if len(points) > self.seed_points_per_step:
            keep = torch.randperm(len(points), device=points.device)
            points = points[keep[: self.seed_points_per_step]]
        self._seed_bank.append(points)
        while (
            sum(len(chunk) for chunk in self._seed_bank[1:])
            >= self.seed_bank_size
        ):
            self._seed_bank.pop(0)

    def _seed_points(self, codes: Tensor) -> Tensor:
        """(N, D) code vectors to seed centres from: the bank of recent
        steps when there is one, otherwise this batch's."""
        if self.seed_bank_size == 0:
            return _code_vectors(codes)
        return torch.cat(self._seed_bank)[-self.seed_bank_size :]

    @torch.no_grad()
    def _track_usage(self, similarity: Tensor, codes: Tensor) -> None:
        self.usage += torch.bincount(
            similarity.argmax(dim=1).flatten(), minlength=self.num_clusters
        ).to(self.usage)
        if int(self.steps) % self.reseed_interval:
            return
        usage = self.usage.clone()
        if dist.is_initialized():
            dist.all_reduce(usage)
        dead = torch.nonzero(usage == 0).flatten()
        if dead.numel():
            self._set_centres(dead, self._seed_points(codes))
        self.usage.zero_()

    @torch.no_grad()
    def _set_centres(self, indices: Tensor, points: Tensor) -> None:
        """New centres for ``indices`` from (N, D) code vectors (computed on
        rank 0, broadcast to all ranks): spherical k-means with restarts
        when all centres are replaced, k-means++ against the live centres
        otherwise."""
        if len(indices) == self.num_clusters:
            seeds = spherical_kmeans(points, self.num_clusters)
        else:
            keep = torch.ones(self.num_clusters, dtype=torch.bool)
            keep[indices] = False
            seeds = kmeans_plus_plus_seeds(
                points,
                len(indices),
                self.clusters.data[keep.to(self.clusters.device)],
            )
        self.clusters.data[indices.to(self.clusters.device)] = seeds.to(
            self.clusters
        )
        if dist.is_initialized():
            dist.broadcast(self.clusters.data, src=0)

    def forward(self, codes: Tensor) -> Tensor:
        """Log-probabilities ``log_softmax(alpha * cos)`` (B, K, H, W)."""
        return F.log_softmax(self.alpha * self.similarity(codes), dim=1)
