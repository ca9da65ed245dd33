"""Cheap estimates of an architecture's quality: proxies that need no training.

`data_free`: scores of the full-size NB101 network that need no data (synflow
with an all-ones input, parameter count, FLOPs) and their rank correlation with
a table's accuracies (`benchmarks/proxies.py`).
"""
