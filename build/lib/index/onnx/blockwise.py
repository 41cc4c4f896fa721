"""Weights a model already holds in 4-bit blocks, run as 4-bit blocks: the graph that
embeds questions when the model is a 4-bit one.

The bundled e5 (index/e5_convert.py) *is* a 4-bit model: each weight matrix is made of
blocks of 32 input weights, one fp16 scale per block times integers -8..7 (Q4_0).
Dynamic int8 quantisation rounds those weights a second time, to one scale per output
channel, and each input to one scale per call. onnxruntime's MatMulNBits holds the
Q4_0 layout itself (blocks along K, symmetric, implicit zero point 8), so a matmul whose
weights are such blocks becomes one with no loss in the weights; its input is quantised
per block of 32 values (accuracy level 4), far finer than int8's one scale per input.
A question is embedded once and compared with every passage, so its vector is where
the precision pays; passages stay int8, which embeds them faster on CPUs without VNNI
(docs/benchmarks.md). Weights that are not such blocks (any other model) are left as
they are, and a graph with none of them gets no 4-bit copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

#: Weights per block along K (Q4_0's, and a block size MatMulNBits takes).
BLOCK = 32
#: MatMulNBits computes with its input quantised to int8 per block (onnxruntime's
#: `accuracy_level` 4); 0 would dequantise to fp32 and run at fp32 speed.
ACCURACY_LEVEL = 4


def q4_blocks(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """MatMulNBits' packed weight (N, K/32, 16 bytes, low nibble first) and scales
    (N * K/32) of a K x N matrix whose every block of 32 along K is a scale times the
    integers -8..7; None if any block is not, so nothing is ever rounded here."""
    if weight.ndim != 2 or weight.shape[0] % BLOCK:
        return None
    k, n = weight.shape
    blocks = np.ascontiguousarray(weight.T, dtype=np.float32).reshape(n, k // BLOCK, BLOCK)
    # Q4_0 maps the weight of largest magnitude to -8 scales: that fixes the scale.
    peak = np.take_along_axis(blocks, np.abs(blocks).argmax(axis=-1)[..., None], axis=-1)[..., 0]
    scale = (peak / -8).astype(np.float32)
    steps = np.rint(blocks / np.where(scale == 0, 1, scale)[..., None])
    if steps.min() < -8 or steps.max() > 7 or not np.array_equal(
            (steps * scale[..., None]).astype(np.float32), blocks):
        return None
    nibbles = (steps + 8).astype(np.uint8)
    return nibbles[..., 0::2] | (nibbles[..., 1::2] << 4), scale.reshape(-1)


def exact_4bit(graph: Path) -> tuple[Any, int]:
    """The graph at `graph` (an fp32 export) with every MatMul whose constant weight is
    4-bit blocks run as MatMulNBits, and how many were rewritten (0: keep no copy)."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(graph))
    weights = {init.name: init for init in model.graph.initializer}
    rewritten = 0
    for position, node in enumerate(model.graph.node):
        if node.op_type != "MatMul" or node.input[1] not in weights:
            continue
        weight = numpy_helper.to_array(weights[node.input[1]])
        packed = q4_blocks(weight)
        if packed is None:
            continue
        nibbles, scales = packed
        name = node.input[1]
        model.graph.initializer.extend([numpy_helper.from_array(nibbles, f"{name}/q4"),
                                        numpy_helper.from_array(scales, f"{name}/q4_scales")])
        model.graph.node[position].CopyFrom(helper.make_node(
            "MatMulNBits", [node.input[0], f"{name}/q4", f"{name}/q4_scales"], list(node.output),
            name=f"{node.name}/q4", domain="com.microsoft", K=weight.shape[0], N=weight.shape[1],
            bits=4, block_size=BLOCK, accuracy_level=ACCURACY_LEVEL))
        rewritten += 1
    used = {name for node in model.graph.node for name in node.input}
    kept = [init for init in model.graph.initializer if init.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    if not any(opset.domain == "com.microsoft" for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model, rewritten
