#!/usr/bin/env python3
"""face-api.js's age and gender net: its TF.js weights, and its maths in NumPy.

The weights (`age_gender_model-weights_manifest.json` and the shard it names) are
TF.js's format: the tensors of the manifest's `weights` list, concatenated in that
order in the shard files; a quantised tensor holds one byte per value, to be read
as `q * scale + min` (TF.js's `io.decodeWeights`).

`forward` is the net as face-api.js computes it (`AgeGenderNet` over
`TinyXception(2)`, NHWC, TF's "same" padding rules), written from that source
without TF: the reference the ONNX rebuild is checked against.

Only NumPy is needed.
"""
import json
import os

import numpy as np

MEAN_RGB = np.array([122.782, 117.001, 104.298], dtype=np.float32)
INPUT_SIZE = 112


def load(manifest_path):
    """{name: float32 array in TF's layout} from a TF.js weights manifest and its shards."""
    with open(manifest_path) as f:
        manifest = json.load(f)
    if not isinstance(manifest, list) or not manifest:
        raise ValueError(f"{manifest_path}: not a TF.js weights manifest (a list of weight groups)")
    folder = os.path.dirname(os.path.abspath(manifest_path))
    weights = {}
    for group in manifest:
        data = b"".join(open(os.path.join(folder, path), "rb").read() for path in group["paths"])
        offset = 0
        for spec in group["weights"]:
            count = int(np.prod(spec["shape"])) if spec["shape"] else 1
            quantization = spec.get("quantization")
            if quantization:
                if quantization.get("dtype") != "uint8":
                    raise ValueError(f"{spec['name']}: quantisation {quantization.get('dtype')} is not handled (uint8 is)")
                raw = np.frombuffer(data, dtype=np.uint8, count=count, offset=offset)
                offset += count
                values = raw.astype(np.float32) * np.float32(quantization["scale"]) + np.float32(quantization["min"])
            else:
                if spec["dtype"] != "float32":
                    raise ValueError(f"{spec['name']}: dtype {spec['dtype']} is not handled")
                values = np.frombuffer(data, dtype="<f4", count=count, offset=offset).astype(np.float32)
                offset += 4 * count
            weights[spec["name"]] = values.reshape(spec["shape"])
        if offset != len(data):
            raise ValueError(f"{manifest_path}: the shards hold {len(data)} bytes, the manifest describes {offset}")
    return weights


# --- The net in NumPy, NHWC, with TF's padding rules -------------------------------

def same_padding(size, kernel, stride):
    """TF's "same": (before, after), the odd pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad(x, kernel, stride, value=0.0):
    top, bottom = same_padding(x.shape[1], kernel, stride)
    left, right = same_padding(x.shape[2], kernel, stride)
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def windows(x, kernel, stride, value=0.0):
    """Pads x as TF's "same" does, then yields (i, j, the input each output pixel sees at kernel offset (i, j))."""
    x = pad(x, kernel, stride, value)
    oh, ow = (x.shape[1] - kernel) // stride + 1, (x.shape[2] - kernel) // stride + 1
    for i in range(kernel):
        for j in range(kernel):
            yield i, j, x[:, i:i + stride * oh:stride, j:j + stride * ow:stride, :]


def conv2d(x, filters, stride):
    """filters [kh, kw, in, out]; "same" padding."""
    result = 0.0
    for i, j, patch in windows(x, filters.shape[0], stride):
        result = result + patch.astype(np.float64) @ filters[i, j].astype(np.float64)
    return result.astype(np.float32)


def depthwise(x, filters, stride):
    """filters [kh, kw, in, 1]; "same" padding."""
    result = 0.0
    for i, j, patch in windows(x, filters.shape[0], stride):
        result = result + patch * filters[i, j, :, 0].astype(np.float64)
    return result.astype(np.float32)


def separable(x, weights, prefix):
    out = depthwise(x, weights[prefix + "/depthwise_filter"], 1)
    return conv2d(out, weights[prefix + "/pointwise_filter"], 1) + weights[prefix + "/bias"]


def conv(x, weights, prefix, stride):
    return conv2d(x, weights[prefix + "/filters"], stride) + weights[prefix + "/bias"]


def max_pool_same(x, kernel, stride):
    """TF's "same" max pool: the padding never wins."""
    result = None
    for _, _, patch in windows(x, kernel, stride, value=-np.inf):
        result = patch if result is None else np.maximum(result, patch)
    return result


def relu(x):
    return np.maximum(x, 0)


def reduction_block(x, weights, prefix, activate_input=True):
    out = relu(x) if activate_input else x
    out = separable(out, weights, prefix + "/separable_conv0")
    out = separable(relu(out), weights, prefix + "/separable_conv1")
    out = max_pool_same(out, 3, 2)
    return out + conv(x, weights, prefix + "/expansion_conv", 2)


def main_block(x, weights, prefix):
    out = separable(relu(x), weights, prefix + "/separable_conv0")
    out = separable(relu(out), weights, prefix + "/separable_conv1")
    out = separable(relu(out), weights, prefix + "/separable_conv2")
    return out + x


def forward(weights, rgb):
    """rgb: [n, 112, 112, 3] float32, 0..255. Returns (age [n], gender [n, 2] softmax over [male, female])."""
    x = (rgb.astype(np.float32) - MEAN_RGB) / np.float32(256)
    out = relu(conv(x, weights, "entry_flow/conv_in", 2))
    out = reduction_block(out, weights, "entry_flow/reduction_block_0", activate_input=False)
    out = reduction_block(out, weights, "entry_flow/reduction_block_1")
    for index in range(2):
        out = main_block(out, weights, f"middle_flow/main_block_{index}")
    out = reduction_block(out, weights, "exit_flow/reduction_block")
    out = relu(separable(out, weights, "exit_flow/separable_conv"))
    # avgPool [7, 7], stride 2, "valid", on 7x7: the mean over the map.
    pooled = out.mean(axis=(1, 2), dtype=np.float64).astype(np.float32)
    age = (pooled @ weights["fc/age/weights"] + weights["fc/age/bias"])[:, 0]
    logits = pooled @ weights["fc/gender/weights"] + weights["fc/gender/bias"]
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return age, exp / exp.sum(axis=1, keepdims=True)
