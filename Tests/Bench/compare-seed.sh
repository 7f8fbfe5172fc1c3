#!/usr/bin/env bash
# Side by side, whole process against whole process: the tutorial's pipeline in
# Python (../shared/tools/seed-pipeline/seed_pipeline.py, the same models) and
# `edgecensus run`, each analysing every frame of the same video, run in turn
# RUNS times under /usr/bin/time -v. Prints each run, then the medians and the
# ratios (EdgeCensus / seed).
#
#   Tests/Bench/compare-seed.sh [--runs N] [--video FILE] [--seed PATH] [--binary PATH]
#
# Needs Debian's python3-opencv (for the seed). Without --binary it measures the binary
# the package ships: built with packaging/release-flags.sh into .build-bench (static
# Swift runtime, lld, packed relocations). A measurement, not a test: run it on a quiet
# machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

runs=5
video=etc/samples/walkers.mp4
seed=../shared/tools/seed-pipeline/seed_pipeline.py
binary=""
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --video) video="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --binary) binary="$2"; shift 2 ;;
        *) echo "compare-seed: unknown option $1" >&2; exit 2 ;;
    esac
done
if [ -z "$binary" ]; then
    . packaging/release-flags.sh
    swift build "${release_flags[@]}" --scratch-path .build-bench --product edgecensus >&2
    binary="$(swift build "${release_flags[@]}" --scratch-path .build-bench --show-bin-path)/edgecensus"
fi
[ -x "$binary" ] || { echo "compare-seed: no $binary (give --binary, or let it build one)" >&2; exit 2; }
[ -f "$seed" ] || { echo "compare-seed: no seed pipeline at $seed (give --seed)" >&2; exit 2; }
/usr/bin/python3 -c 'import cv2' 2>/dev/null || { echo "compare-seed: the seed needs python3-opencv (apt-get install python3-opencv)" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Every frame analysed: no rate cap to speak of, the recording on its own timeline,
# one window for the whole clip, the counts to standard output.
cat >"$work/every-frame.yaml" <<YAML
source:
  kind: video
  path: $video
  realtime: false
throttle:
  max_rate_hz: 30
windows:
  length: 3600
state:
  directory: $work/state
YAML

# The seed reads the very files the agent reads (Models/, as converted for OpenCV); it
# expects the detector under its original names.
mkdir -p "$work/face-detector"
ln -s "$PWD/Models/face-detector/deploy-opencv.prototxt" "$work/face-detector/deploy.prototxt"
ln -s "$PWD/Models/face-detector/res10_300x300_ssd_iter_140000-opencv.caffemodel" \
    "$work/face-detector/res10_300x300_ssd_iter_140000.caffemodel"
seed_models=(--detector "$work/face-detector" --age Models/dlib-cydral/age-v1-opencv.onnx
             --gender Models/dlib-cydral/gender-v1-opencv.onnx)

# One measured run: prints "wall cpu peak_mib".
measure() {
    local out="$work/time.txt"
    /usr/bin/time -v -o "$out" "$@" >/dev/null 2>"$work/stderr.txt" || { cat "$work/stderr.txt" >&2; exit 1; }
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); wall = (n == 3) ? p[1] * 3600 + p[2] * 60 + p[3] : p[1] * 60 + p[2] }
        /User time/ { user = $2 } /System time/ { sys = $2 } /Maximum resident set size/ { rss = $2 / 1024 }
        END { printf "%.2f %.2f %.1f\n", wall, user + sys, rss }' "$out"
}

echo "video: $video; $runs runs each, in turn; wall s, CPU s, peak RSS MiB"
: >"$work/seed.txt"; : >"$work/edgecensus.txt"
for run in $(seq "$runs"); do
    s="$(measure /usr/bin/python3 "$seed" "$video" "${seed_models[@]}")"
    e="$(measure "$binary" run --config "$work/every-frame.yaml")"
    echo "$s" >>"$work/seed.txt"; echo "$e" >>"$work/edgecensus.txt"
    echo "run $run: seed $s | edgecensus $e"
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
frames="$(/usr/bin/python3 -c "import cv2; print(int(cv2.VideoCapture('$video').get(cv2.CAP_PROP_FRAME_COUNT)))")"
printf '\n%-12s %8s %8s %10s %10s\n' pipeline wall CPU "peak" "frames/s"
for name in seed edgecensus; do
    wall="$(cut -d' ' -f1 "$work/$name.txt" | median)"
    cpu="$(cut -d' ' -f2 "$work/$name.txt" | median)"
    rss="$(cut -d' ' -f3 "$work/$name.txt" | median)"
    printf '%-12s %7.2fs %7.2fs %7.1fMiB %10.1f\n' "$name" "$wall" "$cpu" "$rss" "$(echo "$frames / $wall" | bc -l)"
    eval "${name}_wall=$wall ${name}_cpu=$cpu ${name}_rss=$rss"
done
printf '\nEdgeCensus / seed (medians): wall %.2f, CPU %.2f, peak RSS %.3f\n' \
    "$(echo "$edgecensus_wall / $seed_wall" | bc -l)" "$(echo "$edgecensus_cpu / $seed_cpu" | bc -l)" \
    "$(echo "$edgecensus_rss / $seed_rss" | bc -l)"
