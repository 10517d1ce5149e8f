"""Parameter optimization studies on Optuna: search spaces, strategies, trials, results, jobs.

Never imports Qt and never searches by hand (Optuna chooses every trial).
"""
