#!/usr/bin/env bash
# Reproduce every file under Models/ that came from ../shared/models/, and the
# checksum manifest. Run from the repository root:
#   pip install onnx onnxruntime numpy protobuf grpcio-tools && Models/tools/reproduce.sh [ORIGINALS_DIR]
# ORIGINALS_DIR defaults to ../shared/models (see Models/README.md for provenance).
set -euo pipefail
originals=${1:-../shared/models}
models=Models

# OpenCV would hold the detector's batch-normalised convolution weights twice: fold once, here.
"${PYTHON:-python3}" "$models/tools/fold_batchnorm_for_opencv.py" \
  "$originals/opencv-face-ssd/deploy.prototxt" "$originals/opencv-face-ssd/res10_300x300_ssd_iter_140000.caffemodel" \
  "$models/face-detector/deploy-opencv.prototxt" "$models/face-detector/res10_300x300_ssd_iter_140000-opencv.caffemodel"
install -m 0644 "$originals/dlib-cydral/shape_predictor_5_face_landmarks.dat" "$models/dlib-cydral/"
install -m 0644 "$originals/dlib-cydral/NOTICE-Cydral.md" "$originals/dlib-cydral/NOTICE-shape-predictor.md" "$models/dlib-cydral/"

# OpenCV 4.6 cannot import the Gemm nodes as shipped, and would hold every convolution
# weight twice (the affine fused at run time): rewrite both once, here.
for net in age gender; do
  "${PYTHON:-python3}" "$models/tools/rewrite_for_opencv.py" \
    "$originals/dlib-cydral/$net-v1.onnx" "$models/dlib-cydral/$net-v1-opencv.onnx"
done

# What the original graphs answer (onnxruntime), for the agreement test.
"${PYTHON:-python3}" "$models/tools/make_onnx_agreement_fixture.py" \
  "$originals/dlib-cydral" Tests/EdgeCensusVisionTests/Fixtures/onnx-agreement.json

# The manifest the agent checks at load time: every model file, not the tools or notices.
(cd "$models" && find . -type f \( -name '*.onnx' -o -name '*.caffemodel' -o -name '*.prototxt' -o -name '*.dat' \) \
  | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum) > "$models/SHA256SUMS"
echo "wrote $models/SHA256SUMS"
