#!/usr/bin/env bash
# The house rules a machine can check (Tests/README.md), first in the test command:
#   - the Swift sources are formatted as .swift-format says (`swift format lint --strict`);
#     `swift format format -i -r Sources Tests Package.swift` fixes what it finds;
#   - every commit subject since the convention began is at most 72 characters
#     (the detail goes in the body).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
failed=0

if ! swift format lint --strict --recursive --parallel Sources Tests Package.swift; then
    echo "house-rules: the sources are not formatted as .swift-format says; run: swift format format -i -r Sources Tests Package.swift" >&2
    failed=1
fi

# The first commit written to the convention; earlier subjects were longer.
since=2605d25
if git rev-parse --quiet --verify "$since^{commit}" >/dev/null 2>&1; then
    long=$(git log --format='%h %s' "$since^..HEAD" | while IFS= read -r line; do
        subject=${line#* }
        [ "$(printf '%s' "$subject" | LC_ALL=C.UTF-8 wc -m)" -le 72 ] || echo "$line"
    done)
    if [ -n "$long" ]; then
        echo "house-rules: commit subjects over 72 characters (put the detail in the body):" >&2
        echo "$long" >&2
        failed=1
    fi
else
    echo "house-rules: commit $since is not in this clone's history; commit subjects not checked" >&2
fi
exit $failed
