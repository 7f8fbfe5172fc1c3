#!/usr/bin/env python3
"""Check a rebuilt face-api.js age and gender graph against the TF.js maths.

Feeds seeded random faces (bytes 0..255, 112x112 RGB) to the ONNX graph through
OpenCV's dnn module (the library the agent uses) and to faceapi_weights.forward,
the NumPy reference written from face-api.js's source, and prints the largest
differences. Exit 1 if the age differs by more than 1e-3 years or a gender
probability by more than 1e-4.

usage: check_faceapi_onnx.py age_gender_model-weights_manifest.json GRAPH.onnx [CASES]
(needs NumPy and OpenCV's Python module: Debian's python3-numpy and python3-opencv)
"""
import sys

import cv2
import numpy as np

import faceapi_weights


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    weights = faceapi_weights.load(sys.argv[1])
    cases = int(sys.argv[3]) if len(sys.argv) == 4 else 8
    net = cv2.dnn.readNetFromONNX(sys.argv[2])
    rng = np.random.default_rng(20261204)
    worst_age = worst_gender = 0.0
    ages = []
    for index in range(cases):
        # Half uniform noise, half smooth images (closer to a face's statistics).
        if index % 2 == 0:
            rgb = rng.integers(0, 256, size=(1, 112, 112, 3)).astype(np.float32)
        else:
            small = rng.integers(0, 256, size=(8, 8, 3)).astype(np.uint8)
            rgb = cv2.resize(small, (112, 112), interpolation=cv2.INTER_CUBIC)[None].astype(np.float32)
        age, gender = faceapi_weights.forward(weights, rgb)
        blob = ((rgb - faceapi_weights.MEAN_RGB) / 256).transpose(0, 3, 1, 2).astype(np.float32)
        net.setInput(blob)
        got_age, got_gender = net.forward(["age", "gender"])
        worst_age = max(worst_age, float(np.abs(got_age.reshape(-1) - age).max()))
        worst_gender = max(worst_gender, float(np.abs(got_gender.reshape(1, 2) - gender).max()))
        ages.append(float(age[0]))
    print(f"faceapi onnx vs numpy reference: {cases} seeded inputs, OpenCV {cv2.__version__}; "
          f"largest difference: age {worst_age:.2e} years, gender probability {worst_gender:.2e}; "
          f"reference ages {min(ages):.1f}..{max(ages):.1f}")
    sys.exit(0 if worst_age <= 1e-3 and worst_gender <= 1e-4 else 1)


if __name__ == "__main__":
    main()
