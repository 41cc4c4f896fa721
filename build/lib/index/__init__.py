"""Turns files into articles, chunks, vectors and stores. Never imports `qa` or `ui`."""
