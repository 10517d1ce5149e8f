"""Library: the catalog, search, hardware, memory estimates, fit, recommendations, pulls.

Reads never write the registry. Never talks Qt.
"""
