#!/bin/bash
# Makes again the committed documents that come from the key table
# (Sources/EdgeCensusConfiguration/ConfigurationKeys.swift); ConfigurationKeysTests
# fails while one is not current. Usage: Tests/regenerate-documents.sh [EDGECENSUS]
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-}"
if [ -z "$binary" ]; then
    swift build --product edgecensus >/dev/null
    binary="$(swift build --show-bin-path)/edgecensus"
fi
"$binary" config keys --format yaml > etc/edgecensus.yaml
"$binary" config keys --format man > packaging/man/edgecensus.yaml.5
"$binary" config keys --format schema > Sources/EdgeCensusTelemetry/Schemas/config-state.schema.json
article=Sources/edgecensus/Documentation.docc/Articles/Configuration.md
reference="$(mktemp)"
trap 'rm -f "$reference"' EXIT
"$binary" config keys --format markdown > "$reference"
awk -v reference="$reference" '
    /^<!-- end generated -->$/ { skipping = 0 }
    !skipping { print }
    /^<!-- generated: edgecensus config keys --format markdown -->$/ {
        while ((getline line < reference) > 0) print line
        skipping = 1
    }' "$article" > "$article.new"
mv "$article.new" "$article"
git status --short etc packaging/man Sources/EdgeCensusTelemetry/Schemas "$article"
