"""index.onnx.per_token against a numpy reference, run by onnxruntime: each row of a
matmul's input keeps its own int8 scale, so a row of huge activations (as e5's special
tokens carry) costs the other rows nothing, where a scale per call costs them most of
their precision."""

from __future__ import annotations

import numpy as np
import pytest

from index.onnx import per_token


def _matmul_graph(path, w: np.ndarray, opset: int, rank: int) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    shape = [None] * (rank - 1) + [w.shape[0]]
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm"),
         helper.make_node("MatMul", ["y", "x_t"], ["z"], name="activations")],  # not a weight: left alone
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape),
         helper.make_tensor_value_info("x_t", TensorProto.FLOAT, [w.shape[1], 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(w, "w")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=9), str(path))


def _reference(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Symmetric int8 per row of x, per column of w, as the module docstring writes it."""
    w_scale = np.abs(w).max(axis=0) / 127
    w_q = np.round(w / w_scale)
    rows = x.reshape(-1, x.shape[-1])
    scale = np.abs(rows).max(axis=1, keepdims=True) / 127
    q = np.round(rows / scale)
    return ((q @ w_q) * scale * w_scale).reshape(*x.shape[:-1], w.shape[1])


@pytest.mark.parametrize("opset,rank", [(17, 3), (18, 3), (17, 2)])
def test_each_row_is_quantised_on_its_own_scale(tmp_path, opset: int, rank: int) -> None:
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    rng = np.random.default_rng(0)
    w = rng.normal(size=(64, 32)).astype(np.float32)
    x = rng.normal(size=(2, 9, 64) if rank == 3 else (9, 64)).astype(np.float32)
    rows = x.reshape(-1, 64)
    rows[0] *= 300  # a special token's huge activations (a view: x changes too)
    x_t = rng.normal(size=(32, 2)).astype(np.float32)
    src = tmp_path / "plain.onnx"
    _matmul_graph(src, w, opset, rank)

    assert per_token.rewrite_matmuls(src, tmp_path / "rows.onnx") == ["mm"]
    graph = onnx.load(str(tmp_path / "rows.onnx"))
    assert "w" not in {i.name for i in graph.graph.initializer}  # the fp32 weight is gone
    assert sum(n.op_type == "MatMul" for n in graph.graph.node) == 1
    run = ort.InferenceSession(str(tmp_path / "rows.onnx"), providers=["CPUExecutionProvider"])
    got_y, got_z = run.run(None, {"x": x, "x_t": x_t})
    np.testing.assert_allclose(got_z, got_y @ x_t, rtol=1e-5, atol=1e-5 * np.abs(got_z).max())
    np.testing.assert_allclose(got_y, _reference(x, w), rtol=1e-3, atol=1e-3 * np.abs(x @ w).max())

    # Against onnxruntime's own dynamic quantisation, one scale per call.
    quantize_dynamic(str(src), str(tmp_path / "call.onnx"), per_channel=True, weight_type=QuantType.QInt8,
                     extra_options={"MatMulConstBOnly": True})
    per_call = ort.InferenceSession(str(tmp_path / "call.onnx"), providers=["CPUExecutionProvider"])
    call_y = per_call.run(None, {"x": x, "x_t": x_t})[0]
    want = (x @ w).reshape(-1, 32)[1:]  # the ordinary rows
    error = lambda y: np.abs(y.reshape(-1, 32)[1:] - want).max() / np.abs(want).max()  # noqa: E731
    assert error(got_y) < 0.02 < 0.1 < error(call_y)
