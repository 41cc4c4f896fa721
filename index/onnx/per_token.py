"""int8 matmuls whose input is quantised one token (row) at a time, not one call at a time.

onnxruntime's dynamic quantisation gives a matmul's whole input one scale. e5, like other
transformers, carries a few activations tens of times larger than the rest on its special
tokens (<s>, </s>): a call's scale must span them, so every ordinary token is left with a
few of the 256 int8 levels. Quantising each row on its own scale gives each token all 255.

Each MatMul node `x @ W` by a constant fp32 weight becomes, on `x` viewed as rows of K:

    s    = max |row| / 127                          one scale per row
    q    = QuantizeLinear(row, s, 128) as uint8     symmetric, zero point 128
    y    = MatMulIntegerToFloat(q, Wq, 1, w_scale, 128) * s

with `Wq` signed int8 per output channel (scale max |column| / 127, or / 63 for 7 bits,
below). The zero point 128 is the same for every row, so onnxruntime's u8 x s8 kernels
run it as they run its own dynamic quantisation. The VNNI ones sum the products in 32
bits; without VNNI, pairs of products are summed in 16 bits, which 8-bit weights can
saturate (2 x 255 x 127 > 32767) and 7-bit ones cannot (2 x 255 x 63 < 32767):
`weight_levels=63` writes those. A signed input (s8 x s8) has no fast kernel there, and
onnxruntime's MatMulInteger refuses a zero point per row. Other ops with weights (a fused
Attention's projections) are left to `quantize_dynamic`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

#: The int8 range on each side of zero: rows use -127..127, weights as many levels as asked.
LEVELS = 127
#: Weights of 7 bits, whose products' pairs cannot saturate 16 bits.
SEVEN_BIT_LEVELS = 63
ZERO_POINT = 128
#: QuantizeLinear with a scale per axis, Unsqueeze and Slice with inputs for axes.
MIN_OPSET = 13


def rewrite_matmuls(src: Path, dst: Path, weight_levels: int = LEVELS) -> list[str]:
    """Write `src` to `dst` with each MatMul by a constant 2-D fp32 weight quantised per row,
    its weight to -weight_levels..weight_levels per column (module docstring); the names of
    the MatMul nodes rewritten (their output's name where a node has none), in graph order.
    A graph below opset MIN_OPSET is copied as it is."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from index.onnx.export import save_with_weights_beside

    model = onnx.load(str(src))
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    weights = {init.name: init for init in model.graph.initializer}
    nodes: list[onnx.NodeProto] = []
    constants: list[onnx.TensorProto] = []
    rewritten: list[str] = []
    replaced_weights: set[str] = set()
    for node in model.graph.node:
        weight = weights.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if (weight is None or len(weight.dims) != 2 or weight.data_type != TensorProto.FLOAT
                or opset < MIN_OPSET):
            nodes.append(node)
            continue
        name = node.name or node.output[0]  # output names are unique in a graph
        replacement, weight_constants = _per_token_matmul(
            name, node.input[0], node.output[0], numpy_helper.to_array(weight), opset, weight_levels)
        nodes += replacement
        constants += weight_constants
        rewritten.append(name)
        replaced_weights.add(weight.name)
    if rewritten:
        if not any(o.domain == "com.microsoft" for o in model.opset_import):
            model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
        del model.graph.node[:]
        model.graph.node.extend(nodes)
        # An fp32 weight that nothing reads any more goes; every other initializer stays.
        unread = replaced_weights - set(_names_read(model.graph))
        kept = [init for init in model.graph.initializer if init.name not in unread]
        del model.graph.initializer[:]
        model.graph.initializer.extend(kept + _shared_constants() + constants)
    save_with_weights_beside(model, dst, f"{dst.name}.data")
    return rewritten


def _names_read(graph: Any) -> Iterator[str]:
    """Every value name `graph`'s nodes read, in subgraphs (If, Loop, Scan) too, and its outputs."""
    from onnx import AttributeProto

    yield from (output.name for output in graph.output)
    for node in graph.node:
        yield from node.input
        for attribute in node.attribute:
            if attribute.type == AttributeProto.GRAPH:
                yield from _names_read(attribute.g)
            elif attribute.type == AttributeProto.GRAPHS:
                for subgraph in attribute.graphs:
                    yield from _names_read(subgraph)


def _shared_constants() -> list[Any]:
    """The constants every rewritten matmul reads."""
    from onnx import numpy_helper

    return [
        numpy_helper.from_array(np.array([0], np.int64), "per_token/0"),
        numpy_helper.from_array(np.array([-1], np.int64), "per_token/-1"),
        numpy_helper.from_array(np.array(1 / LEVELS, np.float32), "per_token/step"),
        numpy_helper.from_array(np.array(np.finfo(np.float32).tiny, np.float32), "per_token/tiny"),
        numpy_helper.from_array(np.array(1, np.float32), "per_token/one"),
        numpy_helper.from_array(np.array(ZERO_POINT, np.uint8), "per_token/zero_point"),
    ]


def _scale(values: np.ndarray, axis: int, levels: int) -> np.ndarray:
    """int8 scale of `values` along `axis` (max |value| / levels), never 0: the rule the
    graph applies to each row, here for the weight's columns."""
    return (np.maximum(np.abs(values).max(axis=axis) / levels, np.finfo(np.float32).tiny)).astype(np.float32)


def _per_token_matmul(name: str, x: str, y: str, w: np.ndarray, opset: int,
                      weight_levels: int) -> tuple[list[Any], list[Any]]:
    """The nodes computing `y` = `x` @ `w` with int8 rows (module docstring), and the
    constants they add: the int8 weight, its scales per column, the shape of `x` as rows
    and the column count."""
    from onnx import helper, numpy_helper

    w_scale = _scale(w, axis=0, levels=weight_levels)
    w_int8 = np.clip(np.round(w / w_scale), -weight_levels, weight_levels).astype(np.int8)
    constants = [
        numpy_helper.from_array(w_int8, f"{name}/w_int8"),
        numpy_helper.from_array(w_scale, f"{name}/w_scale"),
        numpy_helper.from_array(np.array([-1, w.shape[0]], np.int64), f"{name}/rows_shape"),
        numpy_helper.from_array(np.array([w.shape[1]], np.int64), f"{name}/columns"),
    ]
    nodes: list[Any] = []

    def add(op: str, inputs: list[str], **attributes: Any) -> str:
        output = f"{name}/{op}_{len(nodes)}"
        domain = "com.microsoft" if op == "MatMulIntegerToFloat" else ""
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain, **attributes))
        return output

    def row_reduce(op: str, rows: str) -> str:
        if opset >= 18:  # axes became an input
            return add(op, [rows, "per_token/-1"], keepdims=0)
        return add(op, [rows], axes=[-1], keepdims=0)

    out_shape = add("Concat", [add("Slice", [add("Shape", [x]), "per_token/0", "per_token/-1"]),
                               f"{name}/columns"], axis=0)
    rows = add("Reshape", [x, f"{name}/rows_shape"])
    peak = add("Max", [row_reduce("ReduceMax", rows), add("Neg", [row_reduce("ReduceMin", rows)])])
    scale = add("Max", [add("Mul", [peak, "per_token/step"]), "per_token/tiny"])
    zero_points = add("Expand", ["per_token/zero_point", add("Shape", [scale])])
    quantized = add("QuantizeLinear", [rows, scale, zero_points], axis=0)
    product = add("MatMulIntegerToFloat", [quantized, f"{name}/w_int8", "per_token/one",
                                           f"{name}/w_scale", "per_token/zero_point"])
    scaled = add("Mul", [product, add("Unsqueeze", [scale, "per_token/-1"])])
    nodes.append(helper.make_node("Reshape", [scaled, out_shape], [y], name=f"{name}/per_token"))
    return nodes, constants
