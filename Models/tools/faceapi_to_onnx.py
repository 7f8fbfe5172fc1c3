#!/usr/bin/env python3
"""Rebuild face-api.js's age and gender net as an ONNX graph OpenCV 4.6 and 4.10 load.

face-api.js ships TF.js weights (uint8-quantised) and builds the graph in its
JavaScript source (`AgeGenderNet` over `TinyXception(2)`). This script builds the
same graph in ONNX, opset 11:
  - every weight dequantised (faceapi_weights.load);
  - TF's layouts to ONNX's: convolution filters [kh, kw, in, out] -> [out, in, kh, kw];
    depthwise filters [kh, kw, in, 1] -> [in, 1, kh, kw] with group = in; pointwise
    [1, 1, in, out] -> [out, in, 1, 1];
  - TF's "same" padding made explicit: for a stride-2 layer on an even input TF pads
    one pixel after and none before, which ONNX's `auto_pad` cannot be trusted with
    (OpenCV 4.6 reads SAME_UPPER/LOWER differently): pads are written per side;
  - the fully connected layers as `Gemm` with the weight stored transposed and
    transB=1 (OpenCV 4.6 refuses transB=0);
  - the gender output through `Softmax`, as face-api.js applies it.
Input `input`: [1, 3, 112, 112], RGB, (pixel - (122.782, 117.001, 104.298)) / 256,
the face padded to a square with black and resized, as face-api.js does.
Outputs: `age` [1, 1] (years, a number) and `gender` [1, 2] (probabilities of
[male, female]).

usage: faceapi_to_onnx.py age_gender_model-weights_manifest.json OUT.onnx
(needs NumPy and the onnx package: Debian's python3-numpy and python3-onnx)
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import faceapi_weights

OPSET = 11


class Graph:
    def __init__(self, weights):
        self.weights = weights
        self.nodes, self.initializers = [], []
        self.count = 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def constant(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def node(self, op, inputs, base, **attributes):
        output = self.name(base)
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    @staticmethod
    def same_pads(size, kernel, stride):
        before, after = faceapi_weights.same_padding(size, kernel, stride)
        return before, after

    def conv(self, x, size, filters, bias, stride, group=1, base="conv"):
        """filters already in ONNX layout [out, in/group, kh, kw]; returns (output, size)."""
        kernel = filters.shape[2]
        before, after = self.same_pads(size, kernel, stride)
        inputs = [x, self.constant(self.name(base + "_w"), filters)]
        if bias is not None:
            inputs.append(self.constant(self.name(base + "_b"), bias))
        out = self.node("Conv", inputs, base, kernel_shape=[kernel, kernel], strides=[stride, stride],
                        pads=[before, before, after, after], group=group, dilations=[1, 1])
        return out, -(-size // stride)

    def tf_conv(self, x, size, prefix, stride):
        filters = self.weights[prefix + "/filters"].transpose(3, 2, 0, 1)
        return self.conv(x, size, filters, self.weights[prefix + "/bias"], stride, base=prefix.replace("/", "_"))

    def separable(self, x, size, prefix):
        depthwise = self.weights[prefix + "/depthwise_filter"]  # [kh, kw, in, 1]
        channels = depthwise.shape[2]
        out, size = self.conv(x, size, depthwise.transpose(2, 3, 0, 1), None, 1, group=channels,
                              base=prefix.replace("/", "_") + "_depthwise")
        pointwise = self.weights[prefix + "/pointwise_filter"].transpose(3, 2, 0, 1)
        return self.conv(out, size, pointwise, self.weights[prefix + "/bias"], 1, base=prefix.replace("/", "_") + "_pointwise")

    def relu(self, x):
        return self.node("Relu", [x], "relu")

    def add(self, a, b):
        return self.node("Add", [a, b], "add")

    def max_pool(self, x, size):
        before, after = self.same_pads(size, 3, 2)
        # TF's "same" max pool ignores the padding: ONNX pads MaxPool with -inf, the same.
        return self.node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2],
                         pads=[before, before, after, after]), -(-size // 2)

    def reduction_block(self, x, size, prefix, activate_input=True):
        out = self.relu(x) if activate_input else x
        out, _ = self.separable(out, size, prefix + "/separable_conv0")
        out, _ = self.separable(self.relu(out), size, prefix + "/separable_conv1")
        out, half = self.max_pool(out, size)
        expansion, _ = self.tf_conv(x, size, prefix + "/expansion_conv", 2)
        return self.add(out, expansion), half

    def main_block(self, x, size, prefix):
        out, _ = self.separable(self.relu(x), size, prefix + "/separable_conv0")
        out, _ = self.separable(self.relu(out), size, prefix + "/separable_conv1")
        out, _ = self.separable(self.relu(out), size, prefix + "/separable_conv2")
        return self.add(out, x), size

    def dense(self, x, prefix):
        weights = self.weights[prefix + "/weights"]  # [in, out]: stored transposed, transB=1
        return self.node("Gemm", [x, self.constant(self.name(prefix.replace("/", "_") + "_w"), weights.T),
                                  self.constant(self.name(prefix.replace("/", "_") + "_b"), self.weights[prefix + "/bias"])],
                         prefix.replace("/", "_"), alpha=1.0, beta=1.0, transA=0, transB=1)


def build(weights):
    graph = Graph(weights)
    size = faceapi_weights.INPUT_SIZE
    out, size = graph.tf_conv("input", size, "entry_flow/conv_in", 2)
    out = graph.relu(out)
    out, size = graph.reduction_block(out, size, "entry_flow/reduction_block_0", activate_input=False)
    out, size = graph.reduction_block(out, size, "entry_flow/reduction_block_1")
    for index in range(2):
        out, size = graph.main_block(out, size, f"middle_flow/main_block_{index}")
    out, size = graph.reduction_block(out, size, "exit_flow/reduction_block")
    out, size = graph.separable(out, size, "exit_flow/separable_conv")
    out = graph.relu(out)
    if size != 7:
        raise SystemExit(f"the feature map is {size}x{size}, 7x7 expected")
    # avgPool [7, 7], stride 2, "valid" on a 7x7 map: one mean per channel.
    pooled = graph.node("AveragePool", [out], "avgpool", kernel_shape=[7, 7], strides=[2, 2], pads=[0, 0, 0, 0])
    flat = graph.node("Flatten", [pooled], "flatten", axis=1)
    age = graph.dense(flat, "fc/age")
    gender_logits = graph.dense(flat, "fc/gender")
    graph.nodes.append(helper.make_node("Identity", [age], ["age"], name="age"))
    graph.nodes.append(helper.make_node("Softmax", [gender_logits], ["gender"], name="gender", axis=1))
    model = helper.make_model(
        helper.make_graph(graph.nodes, "faceapi_age_gender",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 112, 112])],
                          [helper.make_tensor_value_info("age", TensorProto.FLOAT, [1, 1]),
                           helper.make_tensor_value_info("gender", TensorProto.FLOAT, [1, 2])],
                          graph.initializers),
        opset_imports=[helper.make_opsetid("", OPSET)], producer_name="edgecensus faceapi_to_onnx.py")
    model.ir_version = 6  # what onnx 1.12 and OpenCV 4.6's importer both read for opset 11
    onnx.checker.check_model(model)
    return model


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    weights = faceapi_weights.load(sys.argv[1])
    onnx.save(build(weights), sys.argv[2])
    print(f"wrote {sys.argv[2]} ({len(weights)} tensors, opset {OPSET})")


if __name__ == "__main__":
    main()
