"""Registry: what the window and the command line read and remove of the registered models.

Reads for the tree come from storage's light index; never contacts a model server.
"""
