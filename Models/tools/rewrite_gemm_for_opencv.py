#!/usr/bin/env python3
"""Rewrite an ONNX graph so that OpenCV 4.6's importer accepts its Gemm nodes.

OpenCV 4.6 asserts (fully_connected_layer.cpp:92) on a Gemm whose weight is not
transposed (transB=0). For each such Gemm with a constant weight initializer we
store the weight transposed and set transB=1: the arithmetic is unchanged
(A @ B == A @ (B^T)^T), so the outputs agree with the original graph.

usage: rewrite_gemm_for_opencv.py ORIGINAL.onnx REWRITTEN.onnx
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def rewrite(model: onnx.ModelProto) -> int:
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


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    model = onnx.load(sys.argv[1])
    count = rewrite(model)
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[2])
    print(f"{sys.argv[2]}: {count} Gemm node(s) rewritten to transB=1")


if __name__ == "__main__":
    main()
