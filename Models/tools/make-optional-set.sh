#!/usr/bin/env bash
# Makes the optional model set (YuNet and face-api.js's age and gender net beside
# the default models) from the files a user downloaded from upstream.
#
#   Models/tools/make-optional-set.sh [--from DEFAULT_SET] DEST FILE...
#
# FILE: the upstream files, any order (their sha256 is checked; see below):
#   yunet_n_320_320.onnx                     github.com/ShiqiYu/libfacedetection.train, onnx/ (Apache-2.0)
#   age_gender_model-weights_manifest.json   github.com/justadudewhohacks/face-api.js, weights/ (MIT)
#   age_gender_model-shard1                  same
# DEST gets a complete set: the default set's files unchanged (from --from, else the
# Models/ directory this script sits in, else /usr/share/edgecensus/models), YuNet,
# face-api.js's net rebuilt as ONNX by faceapi_to_onnx.py (opset 11, for OpenCV 4.6
# and 4.10), model-set.json (each net's role, file, sha256, input and calibration),
# the licence notices, and SHA256SUMS. Nothing is downloaded.
# Needs python3 with NumPy and onnx (Debian: python3-numpy python3-onnx).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
from=""
if [ "${1:-}" = "--from" ]; then from="${2:-}"; shift 2 || usage; fi
[ $# -ge 2 ] || usage
# Absolute: the default set is copied from inside its own directory.
dest="$(realpath -m -- "$1")"; shift

# The upstream files this script knows, by name: sha256 and where they go in the set.
declare -A expected=(
  [yunet_n_320_320.onnx]=81dbde155e982455488235acb8ec2dec5d647edf7cf7080d33e4abb69b93a0d2
  [age_gender_model-weights_manifest.json]=780ca481c12f6501c63e3551caa4df9bc4a05ffc5357060079b75badfd350d86
  [age_gender_model-shard1]=49f92bbc0afef2342c4385e4a2b0acb6d7a727c6f0aa539499719a81acf9abaa
)
declare -A given=()
for file in "$@"; do
  name="$(basename "$file")"
  [ -f "$file" ] || { echo "make-optional-set: $file: no such file" >&2; exit 1; }
  if [ -z "${expected[$name]:-}" ]; then
    echo "make-optional-set: $file: not a file this script knows; it takes ${!expected[*]}" >&2
    exit 1
  fi
  actual="$(sha256sum "$file" | cut -d' ' -f1)"
  if [ "$actual" != "${expected[$name]}" ]; then
    echo "make-optional-set: $file: sha256 $actual, expected ${expected[$name]} (the upstream file this set is"\
         "measured with); download it again from the location above" >&2
    exit 1
  fi
  given[$name]="$file"
done
missing=()
for name in "${!expected[@]}"; do [ -n "${given[$name]:-}" ] || missing+=("$name"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "make-optional-set: missing: ${missing[*]} (see $0 for where each comes from)" >&2
  exit 1
fi

if [ -z "$from" ]; then
  for candidate in "$here/.." /usr/share/edgecensus/models; do
    if [ -f "$candidate/SHA256SUMS" ]; then from="$(cd "$candidate" && pwd)"; break; fi
  done
fi
[ -n "$from" ] && [ -f "$from/SHA256SUMS" ] || { echo "make-optional-set: no default set found (give --from DIR)" >&2; exit 1; }
(cd "$from" && sha256sum --quiet -c SHA256SUMS) || { echo "make-optional-set: the default set in $from fails its SHA256SUMS" >&2; exit 1; }
# The first Python with NumPy and onnx: $PYTHON, Debian's, then the one on PATH.
python=""
for candidate in ${PYTHON:-} /usr/bin/python3 python3; do
  if "$candidate" -c 'import numpy, onnx' 2>/dev/null; then python="$candidate"; break; fi
done
[ -n "$python" ] || { echo "make-optional-set: needs a python3 with NumPy and onnx (Debian: apt install python3-numpy python3-onnx)" >&2; exit 1; }

if [ -e "$dest" ] && [ -n "$(ls -A "$dest" 2>/dev/null)" ]; then
  echo "make-optional-set: $dest exists and is not empty; give a new directory" >&2
  exit 1
fi
mkdir -p "$(dirname "$dest")"
work="$(mktemp -d "${dest%/}.partial.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The default set, unchanged: every file its SHA256SUMS lists, and its notices.
(cd "$from" && cut -d' ' -f3- SHA256SUMS | sed 's/^\*//' | while read -r file; do
  install -D -m 0644 "$file" "$work/$file"
done)
(cd "$from" && find . -name 'NOTICE*' -type f | while read -r file; do install -D -m 0644 "$file" "$work/$file"; done)

install -D -m 0644 "${given[yunet_n_320_320.onnx]}" "$work/yunet/yunet_n_320_320.onnx"
mkdir -p "$work/faceapi"
cp "${given[age_gender_model-weights_manifest.json]}" "${given[age_gender_model-shard1]}" "$work/faceapi/"
"$python" "$here/faceapi_to_onnx.py" "$work/faceapi/age_gender_model-weights_manifest.json" "$work/faceapi/age-gender-faceapi.onnx" >/dev/null
rm "$work/faceapi/age_gender_model-weights_manifest.json" "$work/faceapi/age_gender_model-shard1"

cat > "$work/yunet/NOTICE.md" <<'EOF'
# YuNet

`yunet_n_320_320.onnx`: from github.com/ShiqiYu/libfacedetection.train (`onnx/`,
commit 0047ac24afb1a50a0c6105001c89d1b5b805dbf1), unchanged. Apache License 2.0,
Copyright (c) 2020 Shiqi Yu; the licence text is upstream's `LICENSE`.
EOF
cat > "$work/faceapi/NOTICE.md" <<'EOF'
# face-api.js's age and gender net

`age-gender-faceapi.onnx`: the TF.js weights of github.com/justadudewhohacks/face-api.js
(`weights/age_gender_model-*`, last changed in d50c2b147132fa1b4ed1dbf625262ceea99640bc),
dequantised and rebuilt as an ONNX graph by EdgeCensus's `faceapi_to_onnx.py`.
MIT License, Copyright (c) 2018 Vincent Mühler. The net was trained on face sets
(UTKFace among them) whose terms allow non-commercial research only: check them
before any commercial use.
EOF

sha() { sha256sum "$work/$1" | cut -d' ' -f1; }
# The detector's threshold and input size, the alignment box, the crop, the gender
# weights and the age's spread were chosen by 5-fold cross-validation on FairFace
# (Tests/Tuning/optional-set.sh; Models/README.md gives the figures).
cat > "$work/model-set.json" <<EOF
{
  "schema": "edgecensus.model-set/1",
  "name": "yunet-faceapi",
  "description": "The default set, with YuNet as the face detector and face-api.js's age and gender net beside the dlib/Cydral nets",
  "detector": {
    "kind": "yunet",
    "file": "yunet/yunet_n_320_320.onnx",
    "sha256": "$(sha yunet/yunet_n_320_320.onnx)",
    "input": {"width": 640, "height": 640, "color_order": "bgr", "mean": [0, 0, 0], "scale": 1},
    "frames": {"width": 320, "height": 320, "score_threshold": 0.6},
    "score_threshold": 0.7,
    "nms_threshold": 0.3,
    "alignment": {"scale": 1.0, "shift": 0}
  },
  "nets": [
    {
      "id": "faceapi",
      "file": "faceapi/age-gender-faceapi.onnx",
      "sha256": "$(sha faceapi/age-gender-faceapi.onnx)",
      "input": {"width": 112, "height": 112, "color_order": "rgb", "mean": [122.782, 117.001, 104.298], "scale": 0.00390625},
      "crop": {"kind": "box", "trim_top": 0.15, "square": "pad-black"},
      "outputs": [
        {"name": "age", "kind": "age-years"},
        {"name": "gender", "kind": "gender-probabilities", "labels": ["male", "female"]}
      ]
    }
  ],
  "gender": {"nets": [{"net": "dlib-cydral-gender", "weight": 0.263}, {"net": "faceapi", "weight": 0.548}]},
  "age": {"net": "faceapi", "spread": 0.465}
}
EOF

(cd "$work" && find . -type f ! -name SHA256SUMS ! -name 'NOTICE*' ! -name '*.md' | sed 's|^\./||' | LC_ALL=C sort \
  | xargs sha256sum) > "$work/SHA256SUMS"
# Complete: every line of the default set's SHA256SUMS is in the new one, unchanged.
if ! missing_lines="$(sed 's/ \*/  /' "$from/SHA256SUMS" | grep -vxF -f "$work/SHA256SUMS")"; then missing_lines=""; fi
if [ -n "$missing_lines" ]; then
  echo "make-optional-set: the set lacks default files: $(echo "$missing_lines" | cut -d' ' -f3- | tr '\n' ' ')" >&2
  exit 1
fi
rmdir "$dest" 2>/dev/null || true
mv "$work" "$dest"
trap - EXIT
chmod 0755 "$dest"
echo "make-optional-set: wrote $dest ($(wc -l < "$dest/SHA256SUMS") files in SHA256SUMS); use it with --models $dest or models.directory: $dest"
