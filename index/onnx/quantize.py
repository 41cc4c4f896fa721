"""int8 weights for an exported graph: dynamic quantisation in the recipe for this CPU.

`quantize_dynamic` with per-channel int8 weights (per-tensor ones lose too much), in the
recipe for this machine's CPU (`INT8_RECIPES`; index/cpu.py reads the flags). The MatMul
nodes by a constant weight quantise their input one token at a time
(index.onnx.per_token): the few huge activations of e5's special tokens no longer set the
scale of every other token (a fused attention's projections stay per call). With VNNI
the weights are int8; without, where onnxruntime's u8 x s8 kernels sum pairs of products
in saturating 16 bits, they are 7-bit, whose pairs cannot saturate. The other remedies
measured (unsigned weights, SmoothQuant of the matmuls whose input has outliers, fp32 for
them: `_outlier_nodes`, `_smooth`) remain as recipes for bench/int8_recipes.py. The
measurements behind each choice are in docs/benchmarks.md.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from index.cpu import CpuInfo, this_cpu
from index.onnx.export import CHECK_TEXTS, quiet, save_with_weights_beside
from index.onnx.per_token import LEVELS, SEVEN_BIT_LEVELS, rewrite_matmuls
from index.onnx.runtime import OnnxSentenceModel

#: Dynamic int8 quantisation settings (QuantType names), chosen by measurement.
QUANTIZATION: dict[str, Any] = {
    "per_channel": True,
    #: A matmul whose input's range (what one uint8 scale must span) exceeds this many
    #: times its RMS has outliers: they (the GELU outputs of e5's layers 4, 0 and 5)
    #: cost most of the int8 error, measured as dense MRR on XQuAD...
    "outlier_ratio": 100.0,
    #: ...so it stays fp32 or, as the recipe's `outliers` says, its input is divided per
    #: channel by s and its weight rows multiplied by s, s = max|x| ** alpha / max|w| **
    #: (1 - alpha), before quantising (SmoothQuant; alpha 0.3 and 0.7 measured worse than
    #: 0.5). An outlier op that is not a plain MatMul stays fp32 either way...
    "smoothing_alpha": 0.5,
    #: ...and never more than this share of the matmuls is treated either way.
    "outlier_max_share": 0.25,
}
#: What differs by CPU (index.cpu). With VNNI, u8 x s8 products are summed in 32 bits:
#: signed int8 weights are exact. Without it, onnxruntime sums u8 x s8 pairs in saturating
#: 16 bits; 7-bit signed weights (`reduce_range`) keep them from saturating at the speed of
#: the same kernels. (Unsigned weights take slower u8 x u8 kernels; with inputs per call
#: they were slower and, among news articles, less exact: docs/benchmarks.md.)
#: `input_scale`: a MatMul's input scaled "per-token" (index.onnx.per_token, signed
#: weights) or "per-call" (onnxruntime's dynamic quantisation; a fused attention's
#: projections are always so). `outliers`, for per-call inputs: what is done with the
#: outlier matmuls, "fp32" (left out of quantisation) or "smooth" (SmoothQuant, then int8).
INT8_RECIPES: dict[str, dict[str, Any]] = {
    "vnni": {"reduce_range": False, "weight_type": "QInt8", "input_scale": "per-token"},
    "no-vnni": {"reduce_range": True, "weight_type": "QInt8", "input_scale": "per-token"},
}


def int8_recipe(cpu: CpuInfo | None = None) -> str:
    """The INT8_RECIPES entry for `cpu` (this machine's by default)."""
    return "no-vnni" if (cpu or this_cpu()).int8_saturates else "vnni"


def quantization(recipe: str) -> dict[str, Any]:
    """The full quantisation settings of an int8 recipe, as recorded in the export."""
    return {**QUANTIZATION, **INT8_RECIPES[recipe], "recipe": recipe}


def quantize_int8(graph: Path, runtime: OnnxSentenceModel, work: Path, recipe: str) -> tuple[Path, dict[str, Any]]:
    """`graph` with int8 weights in `recipe`: the new graph (written in `work`) and the
    settings to record, with the matmuls quantised per token, smoothed or kept fp32.
    `runtime` runs `graph` in fp32 to find the outliers of per-call inputs."""
    settings = quantization(recipe)
    if settings["input_scale"] == "per-token":
        if settings["weight_type"] != "QInt8":
            raise ValueError(f"int8 recipe {recipe!r}: per-token inputs are written with signed weights")
        source = work / f"{graph.stem}.per_token.onnx"
        levels = SEVEN_BIT_LEVELS if settings["reduce_range"] else LEVELS
        per_token_nodes = rewrite_matmuls(graph, source, weight_levels=levels)
        # What is left to quantise per call: the fused attention's projections, the embeddings.
        quantized = _quantize(source, work / f"{graph.stem}.int8.onnx", [], settings)
        return quantized, {**settings, "per_token_nodes": per_token_nodes, "smoothed_nodes": [], "fp32_nodes": []}
    outliers = _outlier_nodes(graph, runtime, work / "probe.onnx")
    smoothed: list[str] = []
    if settings["outliers"] == "fp32":
        source, keep = graph, list(outliers)
    else:
        source = work / f"{graph.stem}.smooth.onnx"
        smoothed, keep = _smooth(graph, outliers, source)
    quantized = _quantize(source, work / f"{graph.stem}.int8.onnx", keep, settings)
    return quantized, {**settings, "per_token_nodes": [], "smoothed_nodes": smoothed, "fp32_nodes": keep}


def _outlier_nodes(graph: Path, runtime: OnnxSentenceModel, probe: Path) -> dict[str, np.ndarray]:
    """Weight matmuls whose input has outliers (range / RMS over the check texts above
    `outlier_ratio`), worst first, each with its input's largest |value| per channel:
    dynamic int8 gives each input one scale, so these lose the most precision."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(graph))
    weights = {init.name for init in model.graph.initializer}
    users: dict[str, list[str]] = {}
    for node in model.graph.node:
        if node.op_type in ("MatMul", "Attention", "Gemm") and len(node.input) > 1 and node.input[1] in weights:
            users.setdefault(node.input[0], []).append(node.name)
    known = {o.name for o in model.graph.output}
    for name in users:
        if name not in known:
            model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    onnx.save(model, str(probe))
    del model
    session = ort.InferenceSession(str(probe), providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    ratios: dict[str, list[float]] = {name: [] for name in users}
    peaks: dict[str, np.ndarray] = {}
    for enc in runtime.encodings([t for t in CHECK_TEXTS if len(t) > 20]):
        ids = np.asarray([enc.ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        values = dict(zip(outputs, session.run(None, {i: feed[i] for i in runtime.input_names})))
        for name in users:
            x = values[name]
            rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
            spread = float(max(x.max(), 0.0) - min(x.min(), 0.0))
            ratios[name].append(spread / rms if rms > 0 else 0.0)
            peak = np.abs(x).reshape(-1, x.shape[-1]).max(axis=0)
            peaks[name] = np.maximum(peaks[name], peak) if name in peaks else peak
    scored = sorted(((float(np.mean(r)), name) for name, r in ratios.items() if r), reverse=True)
    limit = int(sum(len(v) for v in users.values()) * QUANTIZATION["outlier_max_share"])
    found = [(node, peaks[name]) for ratio, name in scored if ratio >= QUANTIZATION["outlier_ratio"]
             for node in users[name]]
    return dict(found[:limit])


def _smooth(graph: Path, outliers: dict[str, np.ndarray], dst: Path) -> tuple[list[str], list[str]]:
    """Write `graph` to `dst` with each outlier MatMul smoothed; (smoothed, left as is).

    For input x (peak |x_j| per channel) and weight W (K x N): x' = x / s feeds the
    MatMul through a new Mul node, and W' = diag(s) W, so x' W' = x W exactly in fp32,
    while x' has no channel far larger than the others and W' absorbs the range.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(graph))
    weights = {init.name: init for init in model.graph.initializer}
    uses = Counter(name for node in model.graph.node for name in node.input)
    alpha = QUANTIZATION["smoothing_alpha"]
    smoothed, kept = [], []
    for position, node in reversed(list(enumerate(model.graph.node))):
        if node.name not in outliers:
            continue
        peak = outliers[node.name]
        w = numpy_helper.to_array(weights[node.input[1]]) if node.input[1] in weights else None
        if (node.op_type != "MatMul" or w is None or w.ndim != 2 or w.shape[0] != peak.shape[0]
                or uses[node.input[1]] > 1):  # a shared weight would be scaled for all its users
            kept.append(node.name)
            continue
        w_peak = np.abs(w).max(axis=1)
        scale = (np.maximum(peak, 1e-5) ** alpha / np.maximum(w_peak, 1e-5) ** (1 - alpha)).astype(np.float32)
        weights[node.input[1]].CopyFrom(numpy_helper.from_array(w * scale[:, None], node.input[1]))
        inverse = numpy_helper.from_array((1 / scale).astype(np.float32), f"{node.name}/smooth_scale")
        model.graph.initializer.append(inverse)
        divided = f"{node.input[0]}/smoothed_for_{node.name}"
        model.graph.node.insert(position, onnx.helper.make_node(
            "Mul", [node.input[0], inverse.name], [divided], name=f"{node.name}/smooth"))
        node.input[0] = divided
        smoothed.append(node.name)
    save_with_weights_beside(model, dst, f"{dst.name}.data")
    order = list(outliers)
    return sorted(smoothed, key=order.index), sorted(kept, key=order.index)


def _quantize(src: Path, dst: Path, keep_fp32: list[str], settings: dict[str, Any]) -> Path:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with quiet("root"):
        quantize_dynamic(
            str(src), str(dst),
            per_channel=settings["per_channel"],
            reduce_range=settings["reduce_range"],
            weight_type=getattr(QuantType, settings["weight_type"]),
            nodes_to_exclude=list(keep_fp32),
            # Fused ops (Attention, ...) are in a domain shape inference cannot type.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT, "MatMulConstBOnly": True},
        )
    return dst
