# Copyright (c) mmuss contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmuss.models.probes import (
    ClusterProbe,
    cluster_probe_loss,
    cosine_cluster_similarity,
    kmeans_plus_plus_seeds,
    spherical_kmeans,
)


def test_cosine_similarity_hand_computed():
    codes = torch.tensor([3.0, 4.0]).reshape(1, 2, 1, 1)  # unit: (0.6, 0.8)
    clusters = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-1.0, -1.0]])
    similarity = cosine_cluster_similarity(codes, clusters).flatten()
    expected = torch.tensor([0.6, 0.8, -(0.6 + 0.8) / 2**0.5])
    torch.testing.assert_close(similarity, expected)


def test_loss_is_negative_mean_of_best_similarity():
    similarity = torch.tensor([[[[0.2, 0.9]], [[0.5, -0.3]]]])  # (1,2,1,2)
    loss = cluster_probe_loss(similarity)
    assert loss.item() == pytest.approx(-(0.5 + 0.9) / 2)


def test_loss_gradient_matches_finite_differences():
    torch.manual_seed(0)
    probe = ClusterProbe(in_channels=4, num_clusters=3).double()
    codes = torch.randn(2, 4, 3, 3, dtype=torch.float64)

    def loss_of(clusters):
        return cluster_probe_loss(cosine_cluster_similarity(codes, clusters))

    # piecewise smooth: away from assignment ties the gradient is exact
    assert torch.autograd.gradcheck(
        loss_of, (probe.clusters.detach().clone().requires_grad_(),)
    )


def test_gradient_descent_recovers_separated_clusters():
    torch.manual_seed(0)
    directions = torch.linalg.qr(torch.randn(8, 3))[0].T  # orthonormal
    labels = torch.randint(0, 3, (4, 6, 6))
    codes = directions[labels].permute(0, 3, 1, 2)
    codes = codes + 0.05 * torch.randn_like(codes)
    probe = ClusterProbe(in_channels=8, num_clusters=3)
    with torch.no_grad():  # start each centre near one true direction
        probe.clusters.copy_(directions + 0.3 * torch.randn(3, 8))
    optimizer = torch.optim.Adam(probe.parameters(), lr=0.05)
    for _ in range(200):
        optimizer.zero_grad()
        probe.loss(codes).backward()
        optimizer.step()
    predicted = probe(codes).argmax(1)
    # one-to-one correspondence between clusters and true labels
    for label in range(3):
        assert predicted[labels == label].unique().numel() == 1
    assert predicted.unique().numel() == 3
    assert probe.loss(codes).item() < -0.95


def test_forward_is_log_softmax_with_alpha():
    probe = ClusterProbe(in_channels=5, num_clusters=4, alpha=3.0)
    codes = torch.randn(2, 5, 2, 2)
    expected = F.log_softmax(3.0 * probe.similarity(codes), dim=1)
    torch.testing.assert_close(probe(codes), expected)


def test_wrong_code_dimension_is_reported():
    probe = ClusterProbe(in_channels=5, num_clusters=4)
    with pytest.raises(ValueError, match='expects 5-d codes'):
        probe(torch.randn(1, 6, 2, 2))


def test_kmeans_plus_plus_seeds_spread_over_separated_groups():
    torch.manual_seed(0)
    directions = torch.linalg.qr(torch.randn(8, 4))[0].T
    points = torch.cat([d + 0.01 * torch.randn(50, 8) for d in directions])
    seeds = kmeans_plus_plus_seeds(points, 4)
    groups = (seeds @ directions.T).argmax(1)
    assert sorted(groups.tolist()) == [0, 1, 2, 3]
    torch.testing.assert_close(seeds.norm(dim=1), torch.ones(4))


def test_kmeans_plus_plus_init_happens_once_on_first_batch():
    torch.manual_seed(0)
    probe = ClusterProbe(in_channels=8, num_clusters=3, init='kmeans++')
    directions = torch.linalg.qr(torch.randn(8, 3))[0].T
    labels = torch.randint(0, 3, (2, 6, 6))
    codes = directions[labels].permute(0, 3, 1, 2)
    assert not bool(probe.seeded)
    probe.loss(codes)
    assert bool(probe.seeded)
    seeded = probe.clusters.detach().clone()
    assigned = probe(codes).argmax(1)
    for label in range(3):  # every seed sits on one group
        assert assigned[labels == label].unique().numel() == 1
    probe.loss(codes + 1)
    torch.testing.assert_close(probe.clusters.detach(), seeded)
    # the flag is saved with the model, so a resumed run does not re-seed
    assert 'seeded' in probe.state_dict()


def test_dead_clusters_are_reseeded():
    torch.manual_seed(0)
    probe = ClusterProbe(in_channels=8, num_clusters=3, reseed_interval=2)
    directions = torch.linalg.qr(torch.randn(8, 3))[0].T
    labels = torch.arange(3).repeat_interleave(12).reshape(1, 6, 6)
    codes = directions[labels].permute(0, 3, 1, 2)
    with torch.no_grad():  # clusters 1 and 2 can never win a code
        probe.clusters.copy_(
            torch.stack(
                [directions.sum(0), -directions.sum(0), -directions.sum(0)]
            )
        )
    assert probe(codes).argmax(1).unique().tolist() == [0]
    probe.loss(codes)
    probe.loss(codes)  # second step: re-seed the dead clusters
    assert probe(codes).argmax(1).unique().numel() == 3


def test_invalid_init_is_reported():
    with pytest.raises(ValueError, match='init'):
        ClusterProbe(in_channels=4, num_clusters=2, init='pca')


def test_reset_steps_reseed_all_centres():
    torch.manual_seed(0)
    probe = ClusterProbe(in_channels=8, num_clusters=3, reset_steps=[2])
    codes = torch.randn(1, 8, 4, 4)
    probe.loss(codes)
    before = probe.clusters.detach().clone()
    probe.loss(codes)  # step 2: k-means++ seeds from these codes
    after = probe.clusters.detach()
    assert not torch.allclose(before, after)
    points = F.normalize(codes, dim=1).permute(0, 2, 3, 1).reshape(-1, 8)
    assignment = (points @ after.T).argmax(1)
    for k, centre in enumerate(after):  # a Lloyd fixed point on the batch
        members = points[assignment == k]
        if len(members):
            mean = F.normalize(members.mean(0), dim=0)
            assert float(mean @ F.normalize(centre, dim=0)) > 0.99


def test_step_counter_counts_training_steps():
    probe = ClusterProbe(in_channels=4, num_clusters=2, reseed_interval=3)
    for _ in range(5):
        probe.loss(torch.randn(1, 4, 2, 2))
    assert int(probe.steps) == 5


def test_spherical_kmeans_recovers_groups_and_beats_one_seeding():
    torch.manual_seed(0)
    directions = torch.linalg.qr(torch.randn(16, 5))[0].T
    sizes = [300, 200, 100, 40, 20]  # unbalanced groups
    points = torch.cat(
        [d + 0.3 * torch.randn(n, 16) / 4 for d, n in zip(directions, sizes)]
    )
    labels = torch.cat([torch.full((n,), i) for i, n in enumerate(sizes)])
    centres = spherical_kmeans(points, 5, restarts=10)
    assigned = (F.normalize(points, dim=1) @ centres.T).argmax(1)
    for label in range(5):
        assert assigned[labels == label].unique().numel() == 1
    assert assigned.unique().numel() == 5


def test_seed_bank_keeps_a_subset_of_the_most_recent_steps():
    probe = ClusterProbe(
        in_channels=2,
        num_clusters=2,
        seed_bank_size=10,
        seed_points_per_step=4,
    )
    for step in range(5):  # 8 code vectors per step, all equal to the step
        probe.loss(torch.full((2, 2, 2, 2), float(step + 1)))
    points = probe._seed_points(torch.zeros(1, 2, 1, 1))
    # the last 10 vectors: 4 of step 5, 4 of step 4, 2 of step 3
    expected = torch.tensor([3.0] * 2 + [4.0] * 4 + [5.0] * 4)
    torch.testing.assert_close(points[:, 0], expected)


def _one_group_batch(direction, generator):
    noise = 0.05 * torch.randn(64, direction.numel(), generator=generator)
    return (direction + noise).T.reshape(1, -1, 8, 8)


@pytest.mark.parametrize('bank', [0, 256])
def test_reset_from_the_bank_sees_groups_absent_from_the_last_batch(bank):
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    directions = torch.eye(6)[:3]
    probe = ClusterProbe(
        in_channels=6,
        num_clusters=3,
        init='kmeans++',
        reset_steps=[3],
        seed_bank_size=bank,
    )
    for direction in directions:  # step k shows only group k
        probe.loss(_one_group_batch(direction, generator))
    nearest = (F.normalize(probe.clusters.detach(), dim=1) @ directions.T).max(
        dim=1
    )
    groups_found = set(nearest.indices[nearest.values > 0.9].tolist())
    assert groups_found == ({0, 1, 2} if bank else {2})


def test_invalid_seed_bank_is_reported():
    with pytest.raises(ValueError, match='seed_bank_size'):
        ClusterProbe(in_channels=2, num_clusters=2, seed_bank_size=-1)
    with pytest.raises(ValueError, match='seed_points_per_step'):
        ClusterProbe(in_channels=2, num_clusters=2, seed_points_per_step=0)
