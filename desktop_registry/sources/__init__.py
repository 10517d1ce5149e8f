"""Adapters to outside systems, one module each, returning domain types only.

Never imports storage, services or ui; raises only desktop_registry.errors exceptions.
"""
