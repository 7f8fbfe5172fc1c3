#!/usr/bin/env python3
"""Rewrite a dlib/Cydral ONNX graph into the form OpenCV 4.6 imports and holds once.

Two rewrites, each leaving the arithmetic OpenCV performs unchanged:

1. Gemm weights transposed. OpenCV 4.6 asserts (fully_connected_layer.cpp:92) on a
   Gemm whose weight is not transposed (transB=0). Each such Gemm with a constant
   weight gets it stored transposed and transB=1 (A @ B == A @ (B^T)^T).

2. Affine folded into the convolution. dlib's `affine` layer is exported as
   Conv -> Mul(scale) -> Add(offset), per output channel. OpenCV fuses that chain
   when the net is first run (ConvolutionLayerImpl::fuseWeights), by keeping the
   convolution's original weights *and* a scaled copy: every convolution weight
   held twice (10.6 MiB more for the age net). Folded here, the graph carries the
   scaled weights only. The folding is the same float32 arithmetic OpenCV's fusion
   does (weights w*s, bias b*s + t, each product and sum rounded to float32), so
   the net computes the same numbers as before; the agreement test checks it
   against onnxruntime on the original graphs.

usage: rewrite_for_opencv.py ORIGINAL.onnx REWRITTEN.onnx
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def transpose_gemm_weights(model: onnx.ModelProto) -> int:
    initializers = {init.name: init for init in model.graph.initializer}
    rewritten = 0
    for node in model.graph.node:
        if node.op_type != "Gemm":
            continue
        attributes = {a.name: a for a in node.attribute}
        if attributes.get("transA") is not None and attributes["transA"].i != 0:
            raise SystemExit(f"{node.name}: transA=1 is not handled by this rewrite")
        if attributes.get("transB") is not None and attributes["transB"].i == 1:
            continue
        weight_name = node.input[1]
        if weight_name not in initializers:
            raise SystemExit(f"{node.name}: weight {weight_name} is not a constant initializer")
        weight = numpy_helper.to_array(initializers[weight_name])
        transposed = numpy_helper.from_array(np.ascontiguousarray(weight.T), weight_name)
        initializers[weight_name].CopyFrom(transposed)
        kept = [a for a in node.attribute if a.name != "transB"]
        del node.attribute[:]
        node.attribute.extend(kept + [helper.make_attribute("transB", 1)])
        rewritten += 1
    return rewritten


def per_channel(initializer: onnx.TensorProto, channels: int) -> "np.ndarray | None":
    """A [1, C, 1, 1] (or [C]) float32 constant as a vector of C, else None."""
    value = numpy_helper.to_array(initializer)
    if value.dtype != np.float32 or value.size != channels:
        return None
    if value.ndim == 4 and value.shape != (1, channels, 1, 1):
        return None
    return value.reshape(channels)


def fold_affine_into_conv(model: onnx.ModelProto) -> int:
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    graph_outputs = {output.name for output in graph.output}

    def only_consumer(output: str, op_type: str) -> "onnx.NodeProto | None":
        users = consumers.get(output, [])
        if len(users) != 1 or users[0].op_type != op_type or output in graph_outputs:
            return None
        return users[0]

    def constant_operand(node: onnx.NodeProto, data: str) -> "str | None":
        others = [name for name in node.input if name != data]
        return others[0] if len(others) == 1 and others[0] in initializers else None

    removed: list[onnx.NodeProto] = []
    folded = 0
    for conv in list(graph.node):
        if conv.op_type != "Conv" or len(conv.input) < 2 or conv.input[1] not in initializers:
            continue
        mul = only_consumer(conv.output[0], "Mul")
        if mul is None:
            continue
        add = only_consumer(mul.output[0], "Add")
        scale_name = constant_operand(mul, conv.output[0])
        offset_name = constant_operand(add, mul.output[0]) if add is not None else None
        if scale_name is None or offset_name is None:
            continue
        weight = numpy_helper.to_array(initializers[conv.input[1]])
        channels = weight.shape[0]
        scale = per_channel(initializers[scale_name], channels)
        offset = per_channel(initializers[offset_name], channels)
        if weight.dtype != np.float32 or scale is None or offset is None:
            continue
        if len(conv.input) > 2 and conv.input[2]:
            bias = numpy_helper.to_array(initializers[conv.input[2]]).astype(np.float32)
        else:
            bias = np.zeros(channels, dtype=np.float32)

        # float32 throughout: (w * s) and (b * s) + t, rounded as OpenCV's fusion rounds them.
        scaled = (weight * scale.reshape(channels, 1, 1, 1)).astype(np.float32)
        shifted = ((bias * scale).astype(np.float32) + offset).astype(np.float32)

        weight_name, bias_name = conv.input[1] + "_folded", conv.name + "_bias_folded"
        graph.initializer.extend([numpy_helper.from_array(scaled, weight_name),
                                  numpy_helper.from_array(shifted, bias_name)])
        del conv.input[1:]
        conv.input.extend([weight_name, bias_name])
        conv.output[0] = add.output[0]  # the convolution now yields what the affine did
        removed += [mul, add]
        folded += 1

    for node in removed:
        graph.node.remove(node)
    # Drop the constants nothing reads any more (original weights, scales, offsets).
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return folded


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    model = onnx.load(sys.argv[1])
    transposed = transpose_gemm_weights(model)
    folded = fold_affine_into_conv(model)
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[2])
    print(f"{sys.argv[2]}: {transposed} Gemm node(s) rewritten to transB=1, "
          f"{folded} Conv+Mul+Add chain(s) folded into their Conv")


if __name__ == "__main__":
    main()
