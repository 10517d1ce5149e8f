"""Serving: chat with any registered model, ensembles, saved conversations.

service.py routes a request to its source; ensemble.py applies experiments at request time. Never talks Qt.
"""
