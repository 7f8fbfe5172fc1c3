#!/usr/bin/env python3
"""Fold each BatchNorm + Scale that follows a convolution into that convolution, in a
Caffe model, so that OpenCV holds its weights once.

OpenCV fuses Convolution -> BatchNorm -> Scale when the net is first run
(ConvolutionLayerImpl::fuseWeights) by keeping the convolution's original weights
*and* a scaled copy (2.6 MiB more for the res10 face detector). Folded here, the
model carries the scaled weights only, computed with the arithmetic OpenCV's fusion
uses, so the net computes the same numbers:
  BatchNorm (as BatchNormLayerImpl, float32):  w = 1 / sqrt(var * s + eps),
                                               b = 0 - w * mean * s  (s = 1 / scale factor)
  weights: float32(float64(W) * (float64(w) * float64(gamma)))
  bias:    ((bias * w) + b) * gamma + beta, each step rounded to float32.
Only chains OpenCV itself fuses are folded: a Convolution whose output is read first
by an in-place BatchNorm (global statistics, no weights of its own), then by an
in-place Scale. Other BatchNorm layers (the input's, those after an Eltwise) stay.

usage: fold_batchnorm_for_opencv.py DEPLOY.prototxt WEIGHTS.caffemodel OUT.prototxt OUT.caffemodel
(needs numpy, protobuf and grpcio-tools: the Caffe schema, opencv-caffe.proto beside
this script, is compiled on the fly)
"""
import importlib
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from google.protobuf import text_format

HERE = os.path.dirname(os.path.abspath(__file__))


def caffe_schema():
    work = tempfile.mkdtemp()
    shutil.copy(os.path.join(HERE, "opencv-caffe.proto"), work)
    subprocess.check_call([sys.executable, "-m", "grpc_tools.protoc", "-I", work, "--python_out", work,
                           os.path.join(work, "opencv-caffe.proto")])
    sys.path.insert(0, work)
    return importlib.import_module("opencv_caffe_pb2")


def blob_array(blob) -> np.ndarray:
    shape = list(blob.shape.dim) or [d for d in (blob.num, blob.channels, blob.height, blob.width) if d]
    return np.array(blob.data, dtype=np.float32).reshape(shape)


def set_blob(blob, value: np.ndarray) -> None:
    blob.Clear()
    blob.shape.dim.extend(value.shape)
    blob.data.extend(value.astype(np.float32).ravel().tolist())


def foldable_chains(deploy):
    """(conv, batchnorm, scale) layer names, for each chain OpenCV would fuse."""
    layers = list(deploy.layer)
    chains = []
    for index, conv in enumerate(layers):
        if conv.type != "Convolution" or len(conv.top) != 1:
            continue
        output = conv.top[0]
        readers = [(i, layer) for i, layer in enumerate(layers) if i > index and output in layer.bottom]
        if len(readers) < 2:
            continue
        (_, norm), (_, scale) = readers[0], readers[1]
        in_place = lambda layer: list(layer.bottom) == [output] and list(layer.top) == [output]
        if norm.type != "BatchNorm" or scale.type != "Scale" or not in_place(norm) or not in_place(scale):
            continue
        parameters = norm.batch_norm_param
        if parameters.HasField("use_global_stats") and not parameters.use_global_stats:
            continue
        chains.append((conv.name, norm.name, scale.name))
    return chains


def fold(conv, norm, scale, eps: np.float32) -> None:
    mean, variance = blob_array(norm.blobs[0]), blob_array(norm.blobs[1])
    var_mean_scale = np.float32(1)
    if len(norm.blobs) > 2:
        factor = blob_array(norm.blobs[2]).ravel()[0]
        if factor != 0:
            var_mean_scale = np.float32(1) / np.float32(factor)
    norm_weight = np.float32(1) / np.sqrt(variance * var_mean_scale + eps)
    norm_bias = np.float32(0) - norm_weight * mean * var_mean_scale

    gamma = blob_array(scale.blobs[0])
    beta = blob_array(scale.blobs[1]) if scale.scale_param.bias_term else np.zeros_like(gamma)

    weights = blob_array(conv.blobs[0])
    outputs = weights.shape[0]
    bias = blob_array(conv.blobs[1]).reshape(outputs) if len(conv.blobs) > 1 else np.zeros(outputs, np.float32)

    multiplier = (np.float64(1) * norm_weight.astype(np.float64)) * gamma.astype(np.float64)
    folded = (weights.astype(np.float64) * multiplier.reshape(outputs, *([1] * (weights.ndim - 1)))).astype(np.float32)
    bias = (bias.astype(np.float64) * norm_weight.astype(np.float64)).astype(np.float32) + norm_bias
    bias = (bias.astype(np.float64) * gamma.astype(np.float64)).astype(np.float32) + beta

    set_blob(conv.blobs[0], folded)
    if len(conv.blobs) < 2:
        conv.blobs.add()
    set_blob(conv.blobs[1], bias.astype(np.float32))


def main() -> None:
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    deploy_in, weights_in, deploy_out, weights_out = sys.argv[1:]
    caffe = caffe_schema()
    deploy = caffe.NetParameter()
    with open(deploy_in) as file:
        text_format.Parse(file.read(), deploy)
    weights = caffe.NetParameter()
    with open(weights_in, "rb") as file:
        weights.ParseFromString(file.read())
    trained = {layer.name: layer for layer in weights.layer}

    chains = foldable_chains(deploy)
    removed = set()
    for conv_name, norm_name, scale_name in chains:
        norm_layer = next(layer for layer in deploy.layer if layer.name == norm_name)
        eps = np.float32(norm_layer.batch_norm_param.eps if norm_layer.batch_norm_param.HasField("eps") else 1e-5)
        fold(trained[conv_name], trained[norm_name], trained[scale_name], eps)
        conv_layer = next(layer for layer in deploy.layer if layer.name == conv_name)
        conv_layer.convolution_param.bias_term = True
        removed |= {norm_name, scale_name}

    for net in (deploy, weights):
        kept = [layer for layer in net.layer if layer.name not in removed]
        del net.layer[:]
        net.layer.extend(kept)

    with open(deploy_out, "w") as file:
        file.write(text_format.MessageToString(deploy))
    with open(weights_out, "wb") as file:
        file.write(weights.SerializeToString())
    print(f"{weights_out}: {len(chains)} Convolution+BatchNorm+Scale chain(s) folded into their Convolution")


if __name__ == "__main__":
    main()
