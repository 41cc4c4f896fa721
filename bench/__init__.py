"""Benchmarks of the assistant; run each from the repository root as `python -m bench.<name>`
(bench/README.md lists them). Helpers more than one script needs are in bench/common.py."""
