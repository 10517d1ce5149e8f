"""Jobs: long work (sync, pulls, evaluations) persisted with progress, cancellable, resumable.

The UI observes jobs; it never owns them.
"""
