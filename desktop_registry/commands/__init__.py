"""CLI sub-commands of each feature; cli.py lists the modules in COMMAND_MODULES.

Each module exposes `add_commands(subparsers)` and handlers `(args, ctx) -> exit code`.
"""
