"""The ONNX backends: a sentence-transformers model exported once, then run by onnxruntime.

`runtime` runs on every question; `export` and `quantize` run once per model and machine,
in the order `cache` runs them before it keeps the folder.
"""
