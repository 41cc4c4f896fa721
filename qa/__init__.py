"""Turns a question into cited passages (retrieval, CLI, benchmark). Never imports `ui`."""
