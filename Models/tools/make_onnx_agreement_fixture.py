#!/usr/bin/env python3
"""Compute, once, what the ORIGINAL dlib/Cydral ONNX graphs answer with onnxruntime.

The test suite feeds the same inputs to the rewritten graphs through OpenCV and
checks that both agree. Inputs are seeded random images (bytes 0..255) normalised
the way the nets expect, so the fixture is reproducible bit for bit.

usage: make_onnx_agreement_fixture.py ORIGINALS_DIR OUT.json
"""
import json
import sys

import numpy as np
import onnxruntime as ort

MEANS = np.array([122.782, 117.001, 104.298], dtype=np.float32).reshape(1, 3, 1, 1)


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    originals, out = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(20261129)
    cases = []
    for name, size in (("gender", 32), ("age", 64)):
        session = ort.InferenceSession(f"{originals}/{name}-v1.onnx", providers=["CPUExecutionProvider"])
        for index in range(3):
            pixels = rng.integers(0, 256, size=(1, 3, size, size)).astype(np.float32)
            blob = (pixels - MEANS) / 256.0
            (probabilities,) = session.run(None, {"images": blob})
            cases.append({
                "model": name,
                "size": size,
                "seed_case": index,
                "input_rgb_planar_bytes": pixels.astype(np.uint8).flatten().tolist(),
                "expected": [float(p) for p in probabilities.flatten()],
            })
    with open(out, "w") as handle:
        json.dump({"runtime": f"onnxruntime {ort.__version__}", "cases": cases}, handle)
    print(f"{out}: {len(cases)} cases")


if __name__ == "__main__":
    main()
