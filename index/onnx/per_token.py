"""int8 matmuls whose input is quantised one token (row) at a time, not one call at a time.

onnxruntime's dynamic quantisation gives a matmul's whole input one scale. e5, like other
transformers, carries a few activations tens of times larger than the rest on its special
tokens (<s>, </s>): a call's scale must span them, so every ordinary token is left with a
few of the 256 int8 levels. Quantising each row on its own scale keeps each token's full
precision.

Each matmul `x @ W` by a constant weight becomes, on `x` viewed as rows of K:

    s    = max |row| / 127                          one scale per row
    q    = QuantizeLinear(row, s, 128) as uint8     symmetric, zero point 128
    y    = MatMulIntegerToFloat(q, Wq, 1, w_scale, 128) * s

with `Wq` signed int8 per output channel. The zero point 128 is the same for every row,
so onnxruntime's u8 x s8 kernels run it as they run its own dynamic quantisation (the
VNNI ones sum the products in 32 bits; without VNNI, pairs saturate 16 bits, which is why
only the `vnni` recipe uses this). A signed input (s8 x s8) has no fast kernel there, and a
zero point per row is not accepted by MatMulInteger.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: The int8 range one side of zero: symmetric rows use -127..127 around 128.
LEVELS = 127
ZERO_POINT = 128


def rewrite_matmuls(src: Path, dst: Path) -> list[str]:
    """Write `src` to `dst` with each MatMul by a constant 2-D weight quantised per row
    (module docstring); the names of the matmuls rewritten, in graph order."""
    import onnx
    from onnx import helper, numpy_helper

    from index.onnx.export import save_with_weights_beside

    model = onnx.load(str(src))
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    weights = {init.name: init for init in model.graph.initializer}
    constants = [
        numpy_helper.from_array(np.array([0], np.int64), "per_token/0"),
        numpy_helper.from_array(np.array([-1], np.int64), "per_token/-1"),
        numpy_helper.from_array(np.array(1 / LEVELS, np.float32), "per_token/step"),
        numpy_helper.from_array(np.array(np.finfo(np.float32).tiny, np.float32), "per_token/tiny"),
        numpy_helper.from_array(np.array(1, np.float32), "per_token/one"),
        numpy_helper.from_array(np.array(ZERO_POINT, np.uint8), "per_token/zero_point"),
    ]
    nodes: list = []
    rewritten: list[str] = []
    for node in model.graph.node:
        weight = weights.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if weight is None or len(weight.dims) != 2:
            nodes.append(node)
            continue
        replacement, weight_constants = _per_token_matmul(
            node.name or f"matmul_{len(rewritten)}", node.input[0], node.output[0],
            numpy_helper.to_array(weight).astype(np.float32), opset)
        nodes += replacement
        constants += weight_constants
        rewritten.append(node.name)
    used = {name for node in nodes for name in node.input}
    kept = [init for init in model.graph.initializer if init.name in used]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept + [c for c in constants if c.name in used])
    save_with_weights_beside(model, dst, f"{dst.name}.data")
    return rewritten


def _per_token_matmul(name: str, x: str, y: str, w: np.ndarray, opset: int) -> tuple[list, list]:
    """The nodes computing `y` = `x` @ `w` with int8 rows (module docstring), and the
    constants they add: the int8 weight, its scales per column, two shapes."""
    from onnx import helper, numpy_helper

    w_scale = (np.maximum(np.abs(w).max(axis=0), np.finfo(np.float32).tiny) / LEVELS).astype(np.float32)
    constants = [
        numpy_helper.from_array(np.clip(np.round(w / w_scale), -LEVELS, LEVELS).astype(np.int8), f"{name}/w_int8"),
        numpy_helper.from_array(w_scale, f"{name}/w_scale"),
        numpy_helper.from_array(np.array([-1, w.shape[0]], np.int64), f"{name}/rows_shape"),
        numpy_helper.from_array(np.array([w.shape[1]], np.int64), f"{name}/columns"),
    ]
    nodes: list = []

    def add(op: str, inputs: list[str], **attributes) -> str:
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
