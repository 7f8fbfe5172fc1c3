#!/usr/bin/env bash
# Chooses the optional model set's parameters by 5-fold cross-validation on FairFace
# (Tests/Tuning/choose-optional-set.py) and prints the figures, mean ± sd over the folds.
#
# usage: Tests/Tuning/optional-set.sh [SHARED_DIR] [WORK_DIR]
#   SHARED_DIR: holds models/yunet, models/faceapi and faces/labels.csv (default ../shared)
#   WORK_DIR:   where the variants and their readings go (default .build/tuning/optional-set)
#
# 1. makes the optional set with Models/tools/make-optional-set.sh;
# 2. writes variants of it that differ in one choice each: face-api.js's crop (the
#    share of the box trimmed off the top), where the shape predictor looks relative
#    to YuNet's box, or YuNet's own landmarks in its place (their template fitted on
#    UTKFace, which no choice is made on);
# 3. runs `edgecensus evaluate --debug-dump-readings` on every variant and on the
#    default set;
# 4. runs the chooser on the readings. The values it prints are what
#    make-optional-set.sh writes into model-set.json.
# Takes about 10 minutes on 2 cores (release build).
set -euo pipefail
cd "$(dirname "$0")/../.."
shared="$(cd "${1:-../shared}" && pwd)"
work="${2:-.build/tuning/optional-set}"
python=/usr/bin/python3
swift build -c release --product edgecensus >/dev/null
bin="$(swift build -c release --show-bin-path)/edgecensus"
rm -rf "$work"
mkdir -p "$work"
m="$shared/models"
bash Models/tools/make-optional-set.sh "$work/set" "$m/yunet/yunet_n_320_320.onnx" \
  "$m/faceapi/age_gender_model-weights_manifest.json" "$m/faceapi/age_gender_model-shard1" >/dev/null

# variant NAME JSON: a copy of the set with model-set.json's fields changed
# (keys: trim_top, alignment, landmark_template) and SHA256SUMS brought up to date.
variant() {
  cp -a "$work/set" "$work/$1"
  chmod -R u+w "$work/$1"
  "$python" - "$work/$1" "$2" <<'EOF'
import hashlib, json, os, sys
folder, changes = sys.argv[1], json.loads(sys.argv[2])
path = os.path.join(folder, "model-set.json")
manifest = json.load(open(path))
for key, value in changes.items():
    if key == "trim_top":
        next(n for n in manifest["nets"] if n["id"] == "faceapi")["crop"]["trim_top"] = value
    else:
        manifest["detector"][key] = value
json.dump(manifest, open(path, "w"), indent=2)
digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
sums = os.path.join(folder, "SHA256SUMS")
lines = [f"{digest}  model-set.json\n" if l.split()[1] == "model-set.json" else l for l in open(sums)]
open(sums, "w").writelines(lines)
EOF
}
evaluate() {  # evaluate NAME MODELS
  "$bin" evaluate --models "$2" --labels "$shared/faces/labels.csv" --debug-dump-readings "$work/$1.jsonl" >/dev/null 2>&1
}

evaluate default Models &
evaluate shipped "$work/set"
wait
template="$("$python" Tests/Tuning/choose-optional-set.py template "$work/shipped.jsonl" UTKFace)"
names=()
for spec in "trim0|{\"trim_top\": 0}" "trim0.1|{\"trim_top\": 0.1}" "trim0.15|{\"trim_top\": 0.15}" \
            "trim0.2|{\"trim_top\": 0.2}" \
            "scale1.0|{\"trim_top\": 0.15, \"alignment\": {\"scale\": 1.0, \"shift\": 0}}" \
            "scale1.1|{\"trim_top\": 0.15, \"alignment\": {\"scale\": 1.1, \"shift\": 0}}" \
            "scale1.2|{\"trim_top\": 0.15, \"alignment\": {\"scale\": 1.2, \"shift\": 0}}" \
            "shift+0.05|{\"trim_top\": 0.15, \"alignment\": {\"scale\": 1.1, \"shift\": 0.05}}" \
            "shift-0.05|{\"trim_top\": 0.15, \"alignment\": {\"scale\": 1.1, \"shift\": -0.05}}" \
            "yunet-landmarks|{\"trim_top\": 0.15, \"landmark_template\": $template}"; do
  name="${spec%%|*}"
  variant "$name" "${spec#*|}"
  names+=("$name")
done
for ((i = 0; i < ${#names[@]}; i += 2)); do
  evaluate "${names[i]}" "$work/${names[i]}" &
  [ -z "${names[i + 1]:-}" ] || evaluate "${names[i + 1]}" "$work/${names[i + 1]}"
  wait
done
echo "YuNet's landmark template in dlib's unit face (fitted on UTKFace): $template"
args=()
for name in "${names[@]}"; do args+=("$name=$work/$name.jsonl"); done
"$python" Tests/Tuning/choose-optional-set.py "${args[@]}" --default "$work/default.jsonl" --json "$work/choice.json"
