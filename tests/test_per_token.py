"""index.onnx.per_token against a numpy reference, run by onnxruntime: each row of a
matmul's input keeps its own int8 scale, so a row of huge activations (as e5's special
tokens carry) costs the other rows nothing, where a scale per call costs them most of
their precision."""

from __future__ import annotations

import numpy as np
import pytest

from index.cpu import this_cpu
from index.onnx import per_token

#: Weights this CPU's int8 kernels multiply exactly: without VNNI 8-bit ones can saturate
#: (the last test), so the reference tests use 7 bits there, as the recipe does.
EXACT_LEVELS = per_token.SEVEN_BIT_LEVELS if this_cpu().int8_saturates else per_token.LEVELS


def _save(path, nodes, inputs, outputs, weights: dict[str, np.ndarray], opset: int = 17) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape) for name, shape in inputs],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs],
        [numpy_helper.from_array(value, name) for name, value in weights.items()],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=9), str(path))


def _run(path, **feed: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feed)


def _reference(x: np.ndarray, w: np.ndarray, weight_levels: int = EXACT_LEVELS) -> np.ndarray:
    """Symmetric int8 per row of x, per column of w, as the module docstring writes it."""
    w_scale = np.abs(w).max(axis=0) / weight_levels
    rows = x.reshape(-1, x.shape[-1])
    scale = np.maximum(np.abs(rows).max(axis=1, keepdims=True) / 127, np.finfo(np.float32).tiny)
    return ((np.round(rows / scale) @ np.round(w / w_scale)) * scale * w_scale).reshape(*x.shape[:-1], w.shape[1])


@pytest.mark.parametrize("opset,shape", [(17, (2, 9, 64)), (18, (2, 9, 64)), (17, (9, 64))])
def test_each_row_is_quantised_on_its_own_scale(tmp_path, opset: int, shape: tuple[int, ...]) -> None:
    import onnx
    from onnx import helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    rng = np.random.default_rng(0)
    w = rng.normal(size=(64, 32)).astype(np.float32)
    x = rng.normal(size=shape).astype(np.float32)
    rows = x.reshape(-1, 64)  # a view: x changes too
    rows[0] *= 300  # a special token's huge activations
    rows[1] = 0.0  # a row of zeros comes out as zeros, not NaN
    x_t = rng.normal(size=(32, 2)).astype(np.float32)
    src = tmp_path / "plain.onnx"
    _save(src, [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm"),
                helper.make_node("MatMul", ["y", "x_t"], ["z"], name="activations")],  # no weight: left alone
          [("x", [None] * (len(shape) - 1) + [64]), ("x_t", [32, 2])], ["y", "z"], {"w": w}, opset)

    assert per_token.rewrite_matmuls(src, tmp_path / "rows.onnx", EXACT_LEVELS) == ["mm"]
    graph = onnx.load(str(tmp_path / "rows.onnx"))
    assert "w" not in {i.name for i in graph.graph.initializer}  # the fp32 weight is gone
    assert [n.name for n in graph.graph.node if n.op_type == "MatMul"] == ["activations"]
    got_y, got_z = _run(tmp_path / "rows.onnx", x=x, x_t=x_t)
    np.testing.assert_allclose(got_z, got_y @ x_t, rtol=1e-5, atol=1e-5 * np.abs(got_z).max())
    want = _reference(x, w)
    # Row by row, each to its own size: the huge row must not hide an error in the others.
    size = np.abs(want).max(axis=-1, keepdims=True)
    assert np.all(np.abs(got_y - want) <= 1e-5 * size + 1e-6)
    assert not np.isnan(got_y).any() and not got_y.reshape(-1, 32)[1].any()

    # Against onnxruntime's own dynamic quantisation, one scale per call.
    quantize_dynamic(str(src), str(tmp_path / "call.onnx"), per_channel=True, weight_type=QuantType.QInt8,
                     extra_options={"MatMulConstBOnly": True})
    call_y = _run(tmp_path / "call.onnx", x=x, x_t=x_t)[0]
    ordinary = (x @ w).reshape(-1, 32)[2:]
    error = lambda y: np.abs(y.reshape(-1, 32)[2:] - ordinary).max() / np.abs(ordinary).max()  # noqa: E731
    assert error(got_y) < 0.02 < 0.1 < error(call_y)


def test_shared_and_unnamed_matmuls_and_weights_other_ops_read(tmp_path) -> None:
    """Two MatMuls by one weight each get their int8 copy; a node without a name is named
    by its output; a weight another op also reads stays."""
    from onnx import helper

    rng = np.random.default_rng(1)
    w, v = rng.normal(size=(16, 8)).astype(np.float32), rng.normal(size=(16, 8)).astype(np.float32)
    x = rng.normal(size=(5, 16)).astype(np.float32)
    src = tmp_path / "plain.onnx"
    _save(src, [helper.make_node("MatMul", ["x", "w"], ["a"], name="first"),
                helper.make_node("MatMul", ["x", "w"], ["b"]),  # no name
                helper.make_node("MatMul", ["x", "v"], ["c"], name="third"),
                helper.make_node("Add", ["v", "v"], ["d"], name="reads_v")],
          [("x", [None, 16])], ["a", "b", "c", "d"], {"w": w, "v": v})

    assert per_token.rewrite_matmuls(src, tmp_path / "rows.onnx", EXACT_LEVELS) == ["first", "b", "third"]
    a, b, c, d = _run(tmp_path / "rows.onnx", x=x)
    np.testing.assert_allclose(a, _reference(x, w), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(c, _reference(x, v), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(d, v + v)


def test_a_graph_below_opset_13_is_copied_unchanged(tmp_path) -> None:
    from onnx import helper

    w = np.eye(4, dtype=np.float32)
    src = tmp_path / "plain.onnx"
    _save(src, [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [("x", [None, 4])], ["y"], {"w": w}, 12)
    assert per_token.rewrite_matmuls(src, tmp_path / "rows.onnx") == []
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    np.testing.assert_array_equal(_run(tmp_path / "rows.onnx", x=x)[0], x)


def test_seven_bit_weights_give_the_reference_where_int8_pairs_saturate(tmp_path) -> None:
    """The worst case for u8 x s8 kernels without VNNI: every product large and of one
    sign, so two of them summed in 16 bits overflow with 8-bit weights. With 7-bit
    weights (the recipe for such CPUs) the graph gives the reference on every CPU."""
    from onnx import helper

    rng = np.random.default_rng(0)
    w = (np.abs(rng.normal(size=(64, 32))) + 1).astype(np.float32)
    x = (np.abs(rng.normal(size=(4, 64))) + 1).astype(np.float32)
    src = tmp_path / "plain.onnx"
    _save(src, [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [("x", [None, 64])], ["y"], {"w": w})
    errors = {}
    for levels in (per_token.LEVELS, per_token.SEVEN_BIT_LEVELS):
        per_token.rewrite_matmuls(src, tmp_path / f"{levels}.onnx", weight_levels=levels)
        (got,) = _run(tmp_path / f"{levels}.onnx", x=x)
        want = _reference(x, w, levels)
        errors[levels] = float(np.abs(got - want).max() / np.abs(want).max())
    assert errors[per_token.SEVEN_BIT_LEVELS] < 1e-5
    if this_cpu().int8_saturates:  # what the 7 bits are for: 8-bit weights overflow here
        assert errors[per_token.LEVELS] > 0.01
