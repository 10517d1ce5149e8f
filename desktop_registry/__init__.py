"""Desktop Registry: one registry for every LLM a person runs, local or remote.

Importing the package does no work; `app.py` wires things together.
"""

__version__ = "0.1.0"
