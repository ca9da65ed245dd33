"""The surrogate models of the model-based searchers: `fit(X, y)`, then `predict(X) -> (mean, std)`.

X is (N, D) float32 cell encodings, y (N,) targets (higher is better); the
predictions are (B,) arrays in the units of y. One module per model, each with
its frozen config:

- `ensemble`: `MLPEnsemble`, BANANAS' ensemble of MLPs (`EnsembleConfig`);
- `gp`: `DistanceGP`, naszilla's GP-BO Gaussian process on Hamming distances (`DistanceGPConfig`);
- `neural_process`: `NeuralProcess`, NP-NAS' ensemble of attentive Neural Processes
  (`NeuralProcessConfig`);
- `stacked`: `StackedModel`, the base of the torch models, which fits the models of many
  runs as one stacked computation (`fit_predict_many`).

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search.models.gp import DistanceGP, DistanceGPConfig
    >>> X = np.array([[0, 0, 0], [1, 1, 0], [1, 1, 1]]); y = np.array([1.0, 2.0, 4.0])
    >>> model = DistanceGP(DistanceGPConfig(), np.random.default_rng(0))
    >>> model.fit(X, y)
    >>> mean, std = model.predict(X); np.round(mean, 3).tolist()
    [1.0, 2.0, 4.0]
"""
