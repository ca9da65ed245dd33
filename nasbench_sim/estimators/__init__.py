"""Cheap estimates of an architecture's quality: proxies that need no training.

`data_free`: scores of the full-size NB101 network that need no data (synflow
with an all-ones input, parameter count, FLOPs) and their rank correlation with
a table's accuracies (`benchmarks/proxies.py`); `zero_cost`: proxies on one batch
of data (grad_norm, snip, jacob_cov, NASWOT; `benchmarks/zero_cost_mnist.py`);
`predictors`: any fit/predict model trained on real labels and scored on
held-out cells (`benchmarks/predictors.py`).
"""
