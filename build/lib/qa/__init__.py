"""Turns a question into cited passages (retrieval, CLI, benchmark). Imports `ui` only in
the CLI's `qa serve`, which starts the chat (tests/test_layers.py keeps it so)."""
