#!/usr/bin/env python3
"""YuNet's faces in photos, decoded in NumPy: the reference the agent's decoder is checked against.

Written from OpenCV 4.10's `FaceDetectorYN` post-processing (modules/objdetect/src/
face_detect.cpp), vectorised over each stride's grid rather than looped, with
`cv2.dnn.NMSBoxes` for the suppression. The image goes in as the agent gives it:
scaled (bilinear) to fit the graph's input at its own aspect ratio, top-left
aligned, the rest black.

usage: yunet_reference.py MODEL.onnx WIDTH HEIGHT SCORE_THRESHOLD IMAGE...
prints one JSON object per image: {"image", "faces": [{"box": [x, y, w, h], "score", "landmarks": [[x, y] * 5]}]}
(needs NumPy and OpenCV's Python module: Debian's python3-numpy and python3-opencv)
"""
import json
import sys

import cv2
import numpy as np

STRIDES = (8, 16, 32)
NMS_THRESHOLD = 0.3


def faces(net, image, width, height, threshold):
    factor = min(width / image.shape[1], height / image.shape[0])
    scaled_w = max(1, min(width, int(round(image.shape[1] * factor))))
    scaled_h = max(1, min(height, int(round(image.shape[0] * factor))))
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    canvas[:scaled_h, :scaled_w] = cv2.resize(image, (scaled_w, scaled_h), interpolation=cv2.INTER_LINEAR)
    blob = canvas.astype(np.float32).transpose(2, 0, 1)[None]
    net.setInput(blob)
    names = [f"{head}_{s}" for s in STRIDES for head in ("cls", "obj", "bbox", "kps")]
    outputs = dict(zip(names, net.forward(names)))
    boxes, scores, marks = [], [], []
    for s in STRIDES:
        cols, rows = width // s, height // s
        cls = np.clip(outputs[f"cls_{s}"].reshape(-1), 0, 1)
        obj = np.clip(outputs[f"obj_{s}"].reshape(-1), 0, 1)
        bbox = outputs[f"bbox_{s}"].reshape(-1, 4)
        kps = outputs[f"kps_{s}"].reshape(-1, 10)
        r, c = np.divmod(np.arange(rows * cols), cols)
        score = np.sqrt(cls.astype(np.float64) * obj)
        cx, cy = (c + bbox[:, 0]) * s, (r + bbox[:, 1]) * s
        w, h = np.exp(bbox[:, 2].astype(np.float64)) * s, np.exp(bbox[:, 3].astype(np.float64)) * s
        keep = score >= threshold
        boxes += np.stack([cx - w / 2, cy - h / 2, w, h], axis=1)[keep].tolist()
        scores += score[keep].tolist()
        points = np.stack([(kps[:, 0::2] + c[:, None]) * s, (kps[:, 1::2] + r[:, None]) * s], axis=2)
        marks += points[keep].tolist()
    kept = cv2.dnn.NMSBoxes(boxes, scores, threshold, NMS_THRESHOLD) if boxes else []
    back = 1 / factor
    found = []
    for i in sorted(np.array(kept).reshape(-1).tolist(), key=lambda i: -scores[i]):
        x, y, w, h = (v * back for v in boxes[i])
        left, top = min(max(x, 0), image.shape[1]), min(max(y, 0), image.shape[0])
        right, bottom = min(max(x + w, 0), image.shape[1]), min(max(y + h, 0), image.shape[0])
        found.append({"box": [left, top, right - left, bottom - top], "score": scores[i],
                      "landmarks": [[px * back, py * back] for px, py in marks[i]]})
    return found


def main():
    if len(sys.argv) < 6:
        raise SystemExit(__doc__)
    model, width, height, threshold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    net = cv2.dnn.readNetFromONNX(model)
    for path in sys.argv[5:]:
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"{path}: not an image OpenCV reads")
        print(json.dumps({"image": path, "faces": faces(net, image, width, height, threshold)}))


if __name__ == "__main__":
    main()
