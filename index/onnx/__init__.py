"""The ONNX backends: a sentence-transformers model exported once, then run by onnxruntime."""
