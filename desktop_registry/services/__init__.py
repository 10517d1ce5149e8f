"""Use cases of the app (sync, serving, experiments, evaluation, …), with no Qt.

Services take their collaborators in __init__ and never import ui.
"""
