#!/usr/bin/env python3
"""Compares what two builds of edgecensus printed on the same inputs (for example the
arm64 package, run emulated, against the amd64 build of the same source).

    compare-outputs.py detect REFERENCE.jsonl CANDIDATE.jsonl
    compare-outputs.py run    REFERENCE.jsonl CANDIDATE.jsonl

detect: one `edgecensus detect --json` document per photo. Each photo must have the
same faces (boxes overlapping by IoU >= 0.8), and each face the same gender and age
group; ages may differ by at most 1 year and confidences by at most 0.02.

run: the window documents `edgecensus run` prints. The same windows, each with the
same people, gender, gender x age totals and in-view counts, and the same partial and
suppressed flags; the age groups the same but for people moved to a neighbouring
group, at most one per boundary (a person's voted age on a group boundary, e.g. 34.99
on one architecture and 35.01 on the other: the same one-year tolerance as detect's
ages). Such moves are listed, not counted as differences.

Prints every difference it finds and exits 1 if there is one; exits 0 and prints a
one-line summary if there is none.
"""
import json
import sys

AGE_TOLERANCE = 1.0
CONFIDENCE_TOLERANCE = 0.02
BOX_OVERLAP = 0.8
WINDOW_FIELDS = ("window_start", "window_end", "people", "gender", "age_groups", "gender_age", "in_view",
                 "partial", "suppressed", "k_anonymity")


def documents(path):
    with open(path, encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip()]
    try:
        return [json.loads(line) for line in lines]
    except json.JSONDecodeError as error:
        sys.exit(f"{path}: not one JSON document per line ({error})")


def overlap(a, b):
    ax2, ay2 = a["x"] + a["width"], a["y"] + a["height"]
    bx2, by2 = b["x"] + b["width"], b["y"] + b["height"]
    inter_w = max(0, min(ax2, bx2) - max(a["x"], b["x"]))
    inter_h = max(0, min(ay2, by2) - max(a["y"], b["y"]))
    inter = inter_w * inter_h
    union = a["width"] * a["height"] + b["width"] * b["height"] - inter
    return inter / union if union else 0.0


def compare_detect(reference, candidate):
    differences, faces, worst_age, worst_confidence = [], 0, 0.0, 0.0
    candidates = {document["image"]: document for document in candidate}
    for expected in reference:
        photo = expected["image"]
        actual = candidates.pop(photo, None)
        if actual is None:
            differences.append(f"{photo}: no result")
            continue
        if "error" in expected or "error" in actual:
            if expected.get("error") != actual.get("error"):
                differences.append(f"{photo}: error {expected.get('error')!r} against {actual.get('error')!r}")
            continue
        wanted, got = expected.get("faces", []), list(actual.get("faces", []))
        if len(wanted) != len(got):
            differences.append(f"{photo}: {len(wanted)} faces against {len(got)}")
        for number, face in enumerate(wanted, 1):
            match = max(got, key=lambda other: overlap(face["box"], other["box"]), default=None)
            if match is None or overlap(face["box"], match["box"]) < BOX_OVERLAP:
                differences.append(f"{photo} face {number} at {face['box']}: not found")
                continue
            got.remove(match)
            faces += 1
            where = f"{photo} face {number}"
            for field in ("gender", "age_group"):
                if face[field] != match[field]:
                    differences.append(f"{where}: {field} {face[field]} against {match[field]}")
            age_difference = abs(face["age"] - match["age"])
            worst_age = max(worst_age, age_difference)
            if age_difference > AGE_TOLERANCE:
                differences.append(f"{where}: age {face['age']} against {match['age']}")
            for field in ("detection_confidence", "gender_confidence", "age_confidence"):
                difference = abs(face[field] - match[field])
                worst_confidence = max(worst_confidence, difference)
                if difference > CONFIDENCE_TOLERANCE + 1e-9:
                    differences.append(f"{where}: {field} {face[field]} against {match[field]}")
    differences += [f"{photo}: not in the reference" for photo in candidates]
    summary = (f"{len(reference)} photos, {faces} faces alike; largest age difference {worst_age:.1f} y, "
               f"largest confidence difference {worst_confidence:.3f}")
    return differences, summary


AGE_GROUPS = ["(0-2)", "(4-6)", "(8-12)", "(15-20)", "(25-32)", "(38-43)", "(48-53)", "(60-100)"]


def boundary_moves(expected, actual):
    """For two age-group breakdowns: None when they differ by more than people moved
    across neighbouring groups (at most one per boundary, same totals, same unknown),
    else the number of such moves."""
    if not isinstance(expected, dict) or not isinstance(actual, dict) or set(expected) != set(actual):
        return None
    if expected.get("unknown") != actual.get("unknown"):
        return None
    if any(not isinstance(expected.get(g), int) or not isinstance(actual.get(g), int) for g in AGE_GROUPS):
        return None if any(expected.get(g) != actual.get(g) for g in AGE_GROUPS) else 0
    carried, crossings = 0, 0
    for group in AGE_GROUPS:
        carried += actual[group] - expected[group]
        if abs(carried) > 1:
            return None
        crossings += abs(carried)
    moved = sum(abs(actual[g] - expected[g]) for g in AGE_GROUPS) // 2
    # Each person moved crosses one boundary only (a neighbouring group, not further).
    return moved if carried == 0 and crossings == moved else None


def compare_run(reference, candidate):
    differences, tolerated = [], []
    if len(reference) != len(candidate):
        differences.append(f"{len(reference)} windows against {len(candidate)}")
    for number, (expected, actual) in enumerate(zip(reference, candidate), 1):
        for field in WINDOW_FIELDS:
            if expected.get(field) == actual.get(field):
                continue
            if field == "age_groups":
                moves = boundary_moves(expected.get(field), actual.get(field))
                if moves is not None:
                    tolerated.append(f"window {number}: {moves} person(s) in a neighbouring age group")
                    continue
            if field == "gender_age":
                wanted, got = expected.get(field) or {}, actual.get(field) or {}
                if set(wanted) == set(got) and all(boundary_moves(wanted[g], got[g]) is not None for g in wanted):
                    continue
            differences.append(f"window {number}: {field} {expected.get(field)!r} against {actual.get(field)!r}")
    people = sum(window.get("people", 0) or 0 for window in reference)
    summary = f"{len(reference)} windows alike ({people} people in all)"
    if tolerated:
        summary += "; tolerated: " + "; ".join(tolerated)
    return differences, summary


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("detect", "run"):
        sys.exit(__doc__)
    kind, reference, candidate = sys.argv[1], documents(sys.argv[2]), documents(sys.argv[3])
    if not reference:
        sys.exit(f"{sys.argv[2]}: no documents to compare against")
    compare = compare_detect if kind == "detect" else compare_run
    differences, summary = compare(reference, candidate)
    for difference in differences:
        print(f"differs: {difference}")
    if differences:
        sys.exit(1)
    print(summary)


if __name__ == "__main__":
    main()
