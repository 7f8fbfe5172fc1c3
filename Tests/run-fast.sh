#!/usr/bin/env bash
# The fast loop: every test except the suites and tests tagged broker, guest, root
# or slow (Tests/EdgeCensusTestSupport/Tags.swift). Extra arguments go to
# `swift test`. The toolchain's `swift test` cannot filter by tag yet, so the tags
# are read from the sources and turned into one --skip pattern of test ids.
#   Tests/run-fast.sh              # the fast loop
#   Tests/run-fast.sh --list       # only print the pattern
set -euo pipefail
cd "$(dirname "$0")/.."
tags=${EDGECENSUS_SKIP_TAGS:-broker guest root slow}

# Each @Suite(...) or @Test(...) attribute with .tags(...) naming one of $tags:
# the type it is on (a suite) or the type and function (a test).
pattern=$(find Tests -name '*.swift' -print0 | xargs -0 awk -v tags="$tags" '
  BEGIN { n = split(tags, wanted, " "); for (i = 1; i <= n; i++) skip["." wanted[i]] = 1 }
  FNR == 1 { attribute = ""; kind = ""; type = "" }
  /^[[:space:]]*@(Suite|Test)\(/ { kind = ($0 ~ /@Suite/) ? "suite" : "test"; attribute = "" }
  kind != "" { attribute = attribute $0 }
  match($0, /(struct|class|enum|actor) [A-Za-z0-9_]+/) {
    declared = substr($0, RSTART, RLENGTH); sub(/^[a-z]+ /, "", declared)
    if (kind == "suite" && tagged(attribute)) print "[./]" declared "/"
    type = declared
    if (kind == "suite") kind = ""
  }
  match($0, /func [A-Za-z0-9_]+/) {
    name = substr($0, RSTART + 5, RLENGTH - 5)
    if (kind == "test" && tagged(attribute)) print "[./]" type "/" name "\\("
    kind = ""
  }
  function tagged(text,   list, parts, i) {
    if (!match(text, /\.tags\([^)]*\)/)) return 0
    list = substr(text, RSTART + 6, RLENGTH - 7)
    split(list, parts, /[ ,]+/)
    for (i in parts) if (parts[i] in skip) return 1
    return 0
  }' | sort -u | paste -sd'|')

if [ "${1:-}" = --list ]; then echo "$pattern"; exit 0; fi
[ -n "$pattern" ] || { echo "run-fast: no test is tagged $tags" >&2; exit 1; }
export PATH="/opt/swift/usr/bin:$PATH"
exec swift test --skip "$pattern" "$@"
