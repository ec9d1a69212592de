"""Replaying active learning on labeled data: ``simulation`` (the oracle simulation behind the benchmark),
``simulation_charts`` (its learning curves), ``strategy_lab`` (the Strategy lab page's data, guards and verdict)
and ``sample`` (the bundled sample dataset and a scripted annotator)."""
