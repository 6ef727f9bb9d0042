"""How the server's hashing threads are divided among its worker processes."""

import pytest

from infrastructure.hashing.pool import threads_for_worker


@pytest.mark.parametrize(
    "total, workers, shares",
    [
        (2, 2, [1, 1]),  # the default on 2 cores: one hashing thread per core in all
        (2, 1, [2]),  # one process keeps today's pool
        (5, 2, [3, 2]),  # the remainder goes to the first workers
        (8, 3, [3, 3, 2]),
        (1, 3, [1, 1, 1]),  # every worker can hash, even when that exceeds the total
    ],
)
def test_shares_add_up_to_the_total_and_never_drop_below_one(total, workers, shares):
    got = [threads_for_worker(total, workers, worker) for worker in range(1, workers + 1)]
    assert got == shares
    assert sum(got) == max(total, workers)


@pytest.mark.parametrize("worker", [0, 3])
def test_a_worker_outside_the_server_is_refused(worker):
    with pytest.raises(ValueError):
        threads_for_worker(4, 2, worker)
