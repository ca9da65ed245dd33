import numpy as np
import pytest

from nasbench_sim.errors import ConfigError
from nasbench_sim.multiobjective.registry import build_searcher
from nasbench_sim.multiobjective.search import (
    NSGA2,
    MORegularizedEvolution,
    MORegularizedEvolutionConfig,
    NSGA2Config,
    ParetoLocalSearch,
    ParetoLocalSearchConfig,
    _survivors,
    crowding_distances,
    pareto_ranks,
)
from nasbench_sim.space.sampling import neighbours, random_cells


def test_pareto_ranks_of_hand_made_points():
    points = np.array([[1.0, 1.0], [2.0, 2.0], [0.0, 3.0], [3.0, 3.0], [1.0, 1.0]])
    assert pareto_ranks(points).tolist() == [0, 1, 0, 2, 0]  # equal points share a rank


def test_crowding_distance_of_hand_made_front():
    # Ends infinite; the middle point: (3 - 1) / 3 + (3 - 1) / 3 on the two objectives.
    front = np.array([[0.0, 3.0], [1.0, 2.0], [2.0, 1.0], [3.0, 0.0]])
    distance = crowding_distances(front)
    assert np.isinf(distance[[0, 3]]).all() and distance[1] == pytest.approx(4 / 3) == distance[2]


def test_nsga2_survivors_are_the_first_fronts_then_the_least_crowded():
    cells = random_cells(np.random.default_rng(0), 6)
    points = [[0.0, 4.0], [4.0, 0.0], [1.0, 3.0], [1.1, 2.9], [3.0, 1.0], [5.0, 5.0]]
    members = [(c, np.array(p)) for c, p in zip(cells, points, strict=True)]
    kept = _survivors(members, 4)
    # The five first-front points minus the most crowded one ([1.1, 2.9] or [1.0, 3.0]); [5, 5] is dominated.
    kept_points = [p.tolist() for _, p in kept]
    assert [0.0, 4.0] in kept_points and [4.0, 0.0] in kept_points and [5.0, 5.0] not in kept_points
    assert ([1.0, 3.0] in kept_points) != ([1.1, 2.9] in kept_points)


def test_regularized_evolution_keeps_the_youngest_and_mutates_after_the_random_phase():
    searcher = MORegularizedEvolution(
        MORegularizedEvolutionConfig(population_size=5, sample_size=2), np.random.default_rng(1)
    )
    told = []
    for k in range(12):
        cell = searcher.ask()
        searcher.tell(cell, np.array([float(k), float(-k)]))
        told.append(cell)
    assert [cell for cell, _ in searcher.population] == told[-5:]


def test_nsga2_makes_a_whole_generation_of_distinct_children():
    searcher = NSGA2(NSGA2Config(population_size=6), np.random.default_rng(2))
    asked = []
    for k in range(18):
        cell = searcher.ask()
        asked.append(cell)
        searcher.tell(cell, np.array([float(k % 4), float(cell.num_edges)]))
    assert len(set(asked)) == len(asked) and len(searcher.population) == 6


def test_pareto_local_search_evaluates_the_neighbours_of_an_archive_member():
    searcher = ParetoLocalSearch(ParetoLocalSearchConfig(initial_cells=1), np.random.default_rng(3))
    first = searcher.ask()
    searcher.tell(first, np.array([1.0, 1.0]))
    around = set(neighbours(first))
    following = []
    for _ in range(5):
        cell = searcher.ask()
        following.append(cell)
        searcher.tell(cell, np.array([2.0, 2.0]))  # dominated: the archive stays {first}
    assert set(following) <= around


def test_unknown_names_and_settings_list_the_choices():
    with pytest.raises(ConfigError, match="unknown multi-objective searcher 'moead' \\(choices: mo-rs, mo-re"):
        build_searcher("moead", np.random.default_rng(0))
    with pytest.raises(ConfigError, match="settings: population_size, sample_size"):
        build_searcher("mo-re", np.random.default_rng(0), populaton_size=3)
    with pytest.raises(ConfigError, match="population_size must be a whole number"):
        build_searcher("nsga2", np.random.default_rng(0), population_size=2.5)
