"""The one settings store: settings.json, read and written alike by the window and the CLI.

Never holds a secret: tokens and API keys stay in the keyring (sources/credentials.py).
"""
