#!/usr/bin/env python3
"""Chooses EdgeCensus's tuned parameters by k-fold cross-validation on a labelled set,
and reports every figure as the mean over the held-out folds with its spread.

Input: one or more readings files, each written by
    edgecensus evaluate --labels SET.csv --config VARIANT.yaml --debug-dump-readings FILE.jsonl
for one variant of the pipeline settings (alignment, border, crop padding...). Given
as NAME=FILE; the first is the current default.

In each fold, on the training folds only:
  1. the pipeline variant with the best mean accuracy (gender on both datasets, age
     group exact on exact ages, age in range on ranges);
  2. the gender temperature, minimising the negative log-likelihood of the true gender;
  3. the age temperature, minimising that of the true Adience group (exact ages);
  4. gender_min_confidence: the most selective threshold that keeps at least
     --gender-coverage of each dataset's training faces decided;
  5. age_min_confidence: the most selective threshold that keeps at least
     --age-coverage of the training faces' age groups decided.
The held-out fold is then scored with those choices. The defaults to ship are the
median of the folds' choices; where they move between folds, the median is the
robust value.

Needs Python 3 and numpy (Debian: python3-numpy).
"""
import argparse, json, math, sys
import numpy as np

AGES = np.array([0.25] + list(range(1, 81)), float)
BOUNDARIES = [3, 7, 13.5, 22.5, 35, 45.5, 56.5]  # AgeGroup(age:) in Swift


def group_of(age):
    return sum(1 for b in BOUNDARIES if age >= b)


GROUP_OF_CLASS = np.array([group_of(a) for a in AGES])


def load(path, temperatures_undone=True):
    rows = {}
    for line in open(path):
        if not line.strip():
            continue
        r = json.loads(line)
        if "male_log_odds" not in r:
            continue
        # Undo a temperature the readings were made with: the script works on raw outputs.
        tg, ta = r.get("gender_temperature", 1.0), r.get("age_temperature", 1.0)
        r["raw_log_odds"] = r["male_log_odds"] * tg
        d = np.array(r["age_distribution"]) ** ta
        r["raw_age"] = d / d.sum()
        rows[r["file"]] = r
    return rows


def soften(distribution, temperature):
    logs = np.log(np.maximum(distribution, 1e-12)) / temperature
    logs -= logs.max(axis=-1, keepdims=True)
    e = np.exp(logs)
    return e / e.sum(axis=-1, keepdims=True)


class Faces:
    """The readings of one variant for a list of files, as arrays."""

    def __init__(self, rows, files):
        R = [rows[f] for f in files]
        self.dataset = np.array([r["dataset"] for r in R])
        self.male = np.array([r["gender"] == "male" for r in R])
        self.logodds = np.array([r["raw_log_odds"] for r in R])
        self.age_dist = np.array([r["raw_age"] for r in R])
        self.exact = np.array([r["age"] if r["age"] is not None else np.nan for r in R], float)
        self.lo = np.array([r["age_min"] for r in R])
        self.hi = np.array([r["age_max"] for r in R])

    def subset(self, mask):
        other = object.__new__(Faces)
        for k, v in self.__dict__.items():
            setattr(other, k, v[mask])
        return other

    # -- answers under a calibration
    def gender(self, tg):
        calibrated = self.logodds / tg
        right = (calibrated >= 0) == self.male
        confidence = 1 / (1 + np.exp(-np.abs(calibrated)))
        return confidence, right

    def age(self, ta):
        # The age and its group come from the net's own distribution; the temperature
        # changes only how sure the answer is (softening moves the expected age).
        expected = self.age_dist @ AGES
        d = soften(self.age_dist, ta)
        groups = np.array([group_of(a) for a in expected])
        grouped = np.zeros((len(d), 8))
        for k in range(8):
            grouped[:, k] = d[:, GROUP_OF_CLASS == k].sum(axis=1)
        confidence = grouped[np.arange(len(d)), groups]
        has_exact = ~np.isnan(self.exact)
        truth = np.array([group_of(a) if not math.isnan(a) else -1 for a in self.exact])
        rounded = np.round(expected)
        right = np.where(has_exact, groups == truth, (rounded >= self.lo) & (rounded <= self.hi))
        return confidence, right, expected, grouped, truth


def nll_gender(faces, tg):
    c = faces.logodds / tg
    y = np.where(faces.male, 1, -1)
    return np.mean(np.log1p(np.exp(-y * c)))


def nll_age(faces, ta):
    m = ~np.isnan(faces.exact)
    if not m.any():
        return 0.0
    _, _, _, grouped, truth = faces.subset(m).age(ta)
    return -np.mean(np.log(np.maximum(grouped[np.arange(len(truth)), truth], 1e-12)))


def ece(confidence, right, lowest, bins=10):
    edges = np.linspace(lowest, 1, bins + 1)
    total = 0.0
    for i in range(bins):
        m = (confidence >= edges[i]) & ((confidence < edges[i + 1]) | (i == bins - 1))
        if m.any():
            total += m.sum() / len(confidence) * abs(confidence[m].mean() - right[m].mean())
    return total


def at_coverage(confidence, right, coverage):
    order = np.argsort(-confidence, kind="stable")
    k = int(round(coverage * len(order)))
    return right[order[:k]].mean() if k else float("nan")


def most_selective(confidences_by_set, floors, grid):
    """The highest threshold keeping at least its floor of every set decided."""
    best = grid[0]
    for t in grid:
        if all((c >= t).mean() >= floor for c, floor in zip(confidences_by_set, floors)):
            best = t
    return best


def variant_score(faces):
    c, r = faces.gender(1.0)
    _, ar, _, _, _ = faces.age(1.0)
    parts = [r[faces.dataset == d].mean() for d in DATASETS] + [ar[faces.dataset == d].mean() for d in DATASETS]
    return float(np.mean(parts))


def mean_sd(values):
    v = np.array([x for x in values if not (isinstance(x, float) and math.isnan(x))], float)
    return (v.mean(), v.std(ddof=1) if len(v) > 1 else 0.0) if len(v) else (float("nan"), float("nan"))


def main():
    global DATASETS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("readings", nargs="+", help="NAME=FILE.jsonl (the first is the current default)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--gender-coverage", type=float, nargs=2, default=[0.82, 0.87], metavar=("FAIRFACE", "UTKFACE"),
                    help="training-fold coverage floors for the gender threshold (default 0.82 0.87)")
    ap.add_argument("--age-coverage", type=float, default=0.90)
    ap.add_argument("--json", help="also write the figures as JSON here")
    a = ap.parse_args()

    variants = {}
    for spec in a.readings:
        name, _, path = spec.partition("=")
        variants[name] = load(path)
    names = list(variants)
    files = sorted(set.intersection(*(set(v) for v in variants.values())))
    faces = {n: Faces(variants[n], files) for n in names}
    base = faces[names[0]]
    DATASETS = sorted(set(base.dataset))

    # Stratified folds: by dataset and gender, seeded.
    rng = np.random.default_rng(a.seed)
    fold = np.zeros(len(files), int)
    for d in DATASETS:
        for g in (True, False):
            idx = np.where((base.dataset == d) & (base.male == g))[0]
            rng.shuffle(idx)
            fold[idx] = np.arange(len(idx)) % a.folds

    grid_t = np.round(np.arange(0.5, 6.001, 0.05), 2)
    grid_g = np.round(np.arange(0.50, 0.991, 0.01), 2)
    grid_a = np.round(np.arange(0.0, 0.991, 0.01), 2)
    chosen, figures = [], []
    for k in range(a.folds):
        train_mask, test_mask = fold != k, fold == k
        variant = max(names, key=lambda n: variant_score(faces[n].subset(train_mask)))
        train, test = faces[variant].subset(train_mask), faces[variant].subset(test_mask)
        tg = min(grid_t, key=lambda t: nll_gender(train, t))
        ta = min(grid_t, key=lambda t: nll_age(train, t))
        gc, _ = train.gender(tg)
        floors = dict(zip(["FairFace", "UTKFace"], a.gender_coverage))
        t_gender = most_selective([gc[train.dataset == d] for d in DATASETS],
                                  [floors.get(d, 0.85) for d in DATASETS], grid_g)
        ac, _, _, _, _ = train.age(ta)
        t_age = most_selective([ac], [a.age_coverage], grid_a)
        chosen.append(dict(fold=k, variant=variant, gender_temperature=float(tg), age_temperature=float(ta),
                           gender_min_confidence=float(t_gender), age_min_confidence=float(t_age)))
        c1, r = test.gender(1.0)
        c, _ = test.gender(tg)
        figures.append(dict(fold=k, dataset="all", faces=len(r), pooled_gender_ece_raw=ece(c1, r, 0.5), pooled_gender_ece=ece(c, r, 0.5)))
        for d in DATASETS:
            m = test.dataset == d
            f = test.subset(m)
            c1, r = f.gender(1.0)
            c, _ = f.gender(tg)
            decided = c >= t_gender
            a1, ar, expected, _, _ = f.age(1.0)
            ac_, ar_t, expected_t, _, _ = f.age(ta)
            adecided = ac_ >= t_age
            exact = ~np.isnan(f.exact)
            figures.append(dict(
                fold=k, dataset=d, faces=int(m.sum()),
                gender_accuracy=r.mean(), gender_decided_accuracy=r[decided].mean() if decided.any() else float("nan"),
                gender_coverage=decided.mean(),
                **{f"gender_at_{int(cv * 100)}": at_coverage(c, r, cv) for cv in (1, 0.9, 0.8, 0.7)},
                gender_ece_raw=ece(c1, r, 0.5), gender_ece=ece(c, r, 0.5),
                age_accuracy=ar_t.mean(), age_decided_accuracy=ar_t[adecided].mean() if adecided.any() else float("nan"),
                age_coverage=adecided.mean(),
                **{f"age_at_{int(cv * 100)}": at_coverage(ac_, ar_t, cv) for cv in (1, 0.9, 0.8, 0.7)},
                age_ece_raw=ece(a1[exact], ar[exact], 0) if exact.any() else float("nan"),
                age_ece=ece(ac_[exact], ar_t[exact], 0) if exact.any() else float("nan"),
                age_mae=float(np.abs(expected_t[exact] - f.exact[exact]).mean()) if exact.any() else float("nan"),
            ))

    print(f"{len(files)} faces, {a.folds} folds (seed {a.seed}), variants: {', '.join(names)}")
    print("\nchosen on the training folds:")
    for c in chosen:
        print(f"  fold {c['fold']}: variant {c['variant']}, gender T {c['gender_temperature']:.2f}, age T {c['age_temperature']:.2f}, "
              f"gender_min_confidence {c['gender_min_confidence']:.2f}, age_min_confidence {c['age_min_confidence']:.2f}")
    defaults = {key: float(np.median([c[key] for c in chosen]))
                for key in ("gender_temperature", "age_temperature", "gender_min_confidence", "age_min_confidence")}
    votes = {n: sum(c["variant"] == n for c in chosen) for n in names}
    print("  defaults (median of the folds): " + ", ".join(f"{k} {v:.2f}" for k, v in defaults.items())
          + f"; variant chosen in {votes}")
    print("\nheld-out folds, mean ± standard deviation over the folds:")
    keys = [k for k in figures[0] if k not in ("fold", "dataset", "faces")]
    keys = [k for k in figures[1] if k not in ("fold", "dataset", "faces")]
    for d in DATASETS:
        rows = [f for f in figures if f["dataset"] == d]
        print(f"  {d} ({sum(r['faces'] for r in rows)} faces)")
        for key in keys:
            m, s = mean_sd([r[key] for r in rows])
            if not math.isnan(m):
                print(f"    {key:24s} {m:.3f} ± {s:.3f}")
    pooled = {}
    for key in ("gender_ece_raw", "gender_ece"):
        pooled[key] = mean_sd([f["pooled_" + key] for f in figures if "pooled_" + key in f])
    print("  all faces: gender ECE uncalibrated %.3f ± %.3f, calibrated %.3f ± %.3f" % (*pooled["gender_ece_raw"], *pooled["gender_ece"]))
    if a.json:
        json.dump(dict(chosen=chosen, defaults=defaults, figures=figures), open(a.json, "w"), indent=1, default=float)


if __name__ == "__main__":
    main()
