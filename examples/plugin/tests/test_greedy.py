from nasbench_sim.testing import check_searcher


def test_greedy_mutation_keeps_the_searcher_contract():
    check_searcher("nbs_example_plugin.greedy:GreedyMutation")  # raises ContractError naming a broken rule
