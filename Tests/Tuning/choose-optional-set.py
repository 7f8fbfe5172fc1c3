#!/usr/bin/env python3
"""Chooses how the optional model set (YuNet + face-api.js's age and gender net beside
the dlib/Cydral nets) combines its nets, by k-fold cross-validation on FairFace, and
reports every figure as the mean over the held-out folds with its spread.

Run: Tests/Tuning/optional-set.sh (makes the variants and runs this on them).

Input: readings files written by
    edgecensus evaluate --models SET --labels labels.csv --debug-dump-readings FILE.jsonl
one per variant of the set (face-api.js's crop: the share of the box trimmed off the
top), given as NAME=FILE; and --default FILE, the default set's readings (its dlib age
net's distribution, for the age-confidence measures that need a second age).

Every choice is made on FairFace's training folds only: face-api.js's net was trained
on UTKFace, so UTKFace is only reported, with each fold's choices. In each fold:
  1. the crop variant with the best mean of the two nets' gender accuracy and
     face-api.js's age in range;
  2. the gender: (a) the mean of the two nets' calibrated log-odds (each net's
     temperature fitted), or (b) weights on the raw log-odds fitted by logistic
     regression; the one with the lower mean held-out log-loss is kept;
  3. the age from the net with more ages in range (face-api.js's years, or the dlib
     net's expected age);
  4. the age's group confidence, from (a) the share of a log-normal error spread
     inside the age's group (spread fitted by interval likelihood), (b) the nets'
     disagreement |ln(a1 + 1) - ln(a2 + 1)|, or (c) the dlib net's probability of
     face-api.js's group, by held-out AUROC of sorting right from wrong. (b) and (c)
     cost the dlib age net on every face: one is kept only where its paired AUROC
     gain over (a) is above two standard errors;
  5. the decision thresholds stay the defaults (0.65, 0.18): both answers are
     calibrated probabilities, so a threshold means the same on every set. Their
     held-out coverage and accuracy among decided faces are reported.
The values to ship are the median over the folds.

Needs Python 3 and numpy (Debian: python3-numpy).
"""
import argparse, json, math
import numpy as np

BOUNDARIES = [3, 7, 13.5, 22.5, 35, 45.5, 56.5]  # AgeGroup(age:) in Swift
AGES = np.array([0.25] + list(range(1, 81)), float)
GENDER_THRESHOLD, AGE_THRESHOLD = 0.65, 0.18  # DecisionThresholds' defaults


def group_of(age):
    return sum(1 for b in BOUNDARIES if age >= b)


GROUP_OF_CLASS = np.array([group_of(a) for a in AGES])
EDGES = np.array([-np.inf] + BOUNDARIES + [np.inf])


def phi(x):
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


class Faces:
    def __init__(self, rows, default_rows, files):
        R = [rows[f] for f in files]
        D = [default_rows[f] for f in files]
        self.dataset = np.array([r["dataset"] for r in R])
        self.male = np.array([r["gender"] == "male" for r in R])
        self.dlib_gender = np.array([r["nets"][0]["male_log_odds"] for r in R])
        self.faceapi_gender = np.array([r["nets"][1]["male_log_odds"] for r in R])
        self.faceapi_age = np.maximum(np.array([r["nets"][1]["age_years"] for r in R]), 0)
        dist = np.array([np.array(d["age_distribution"]) ** d.get("age_temperature", 1.0) for d in D])
        self.dlib_age_dist = dist / dist.sum(axis=1, keepdims=True)
        self.dlib_age = self.dlib_age_dist @ AGES
        self.exact = np.array([r["age"] if r["age"] is not None else np.nan for r in R], float)
        self.lo = np.array([r["age_min"] for r in R], float)
        self.hi = np.array([r["age_max"] for r in R], float)

    def subset(self, mask):
        other = object.__new__(Faces)
        for k, v in self.__dict__.items():
            setattr(other, k, v[mask])
        return other

    def age_right(self, age):
        """FairFace: the rounded age in the labelled range; exact ages: the Adience group."""
        rounded = np.round(age)
        in_range = (rounded >= self.lo) & (rounded <= self.hi)
        groups = np.array([group_of(a) for a in age])
        truth = np.array([group_of(a) if not math.isnan(a) else -1 for a in self.exact])
        return np.where(np.isnan(self.exact), in_range, groups == truth)


def log_loss(logodds, male):
    y = np.where(male, 1, -1)
    return float(np.mean(np.logaddexp(0, -y * logodds)))


def fit_temperature(x, male):
    grid = np.arange(0.3, 8.0, 0.01)
    return float(min(grid, key=lambda t: log_loss(x / t, male)))


def fit_weights(X, male, steps=400):
    """Logistic regression without intercept (the nets are symmetric in male/female), Newton's method."""
    y = male.astype(float)
    w = np.zeros(X.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(X @ w)))
        g = X.T @ (p - y)
        H = X.T @ (X * (p * (1 - p))[:, None]) + 1e-6 * np.eye(X.shape[1])
        step = np.linalg.solve(H, g)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return w


def lognormal_group_mass(age, spread):
    centre = np.log(age + 1)
    groups = np.array([group_of(a) for a in age])
    lower = EDGES[groups]
    upper = EDGES[groups + 1]

    def below(b):
        out = np.where(np.isinf(b), np.where(b < 0, 0.0, 1.0), 0.0)
        finite = ~np.isinf(b)
        out[finite] = phi((np.log(np.maximum(b[finite], 0) + 1) - centre[finite]) / spread)
        return out

    return below(upper) - below(lower)


def fit_spread(faces):
    """Maximum likelihood of the labels under ln(true + 1) ~ N(ln(age + 1), s²): a FairFace
    range [lo, hi] is the interval [lo, hi + 1) of real ages, an exact age a point."""
    centre = np.log(faces.faceapi_age + 1)
    exact = ~np.isnan(faces.exact)
    lo, hi = np.log(faces.lo + 1), np.log(np.minimum(faces.hi, 99) + 2)

    def nll(s):
        total = 0.0
        if (~exact).any():
            p = phi((hi[~exact] - centre[~exact]) / s) - phi((lo[~exact] - centre[~exact]) / s)
            total -= np.log(np.maximum(p, 1e-12)).sum()
        if exact.any():
            z = (np.log(faces.exact[exact] + 1) - centre[exact]) / s
            total += (0.5 * z ** 2 + np.log(s)).sum()
        return total

    grid = np.arange(0.05, 1.5, 0.005)
    return float(min(grid, key=nll))


def auroc(score, right):
    right = right.astype(bool)
    if right.all() or (~right).all():
        return float("nan")
    order = np.argsort(score, kind="stable")
    ranks = np.empty(len(score))
    ranks[order] = np.arange(1, len(score) + 1)
    # Ties share their mean rank.
    for value in np.unique(score):
        m = score == value
        ranks[m] = ranks[m].mean()
    n1, n0 = right.sum(), (~right).sum()
    return float((ranks[right].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def at_coverage(confidence, right, coverage):
    order = np.argsort(-confidence, kind="stable")
    k = int(round(coverage * len(order)))
    return float(right[order[:k]].mean()) if k else float("nan")


def decided(confidence, right, threshold):
    m = confidence >= threshold
    return (float(right[m].mean()) if m.any() else float("nan")), float(m.mean())


def mean_sd(values):
    v = np.array([x for x in values if not math.isnan(x)], float)
    return (float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0) if len(v) else (float("nan"), float("nan"))


def gender_answer(faces, choice):
    X = np.stack([faces.dlib_gender, faces.faceapi_gender], axis=1)
    logodds = X @ np.array(choice["weights"])
    confidence = 1 / (1 + np.exp(-np.abs(logodds)))
    return logodds, confidence, (logodds >= 0) == faces.male


def age_confidence(faces, measure, spread):
    if measure == "spread":
        return lognormal_group_mass(faces.faceapi_age, spread)
    if measure == "disagreement":
        return -np.abs(np.log(faces.faceapi_age + 1) - np.log(faces.dlib_age + 1))
    groups = np.array([group_of(a) for a in faces.faceapi_age])
    grouped = np.stack([faces.dlib_age_dist[:, GROUP_OF_CLASS == k].sum(axis=1) for k in range(8)], axis=1)
    return grouped[np.arange(len(groups)), groups]


DLIB_TEMPLATE = np.array([[0.8595674595992, 0.2134981538014], [0.6460604764104, 0.2289674387677],
                          [0.1205750620789, 0.2137274526848], [0.3340850613712, 0.2290642403242],
                          [0.4901123135679, 0.6277975316475]])  # FaceChip.fivePointTemplate


def similarity(src, dst):
    """The least-squares similarity (as complex a·z + b) mapping src's points onto dst's."""
    s, d = src[:, 0] + 1j * src[:, 1], dst[:, 0] + 1j * dst[:, 1]
    a = ((d - d.mean()) * np.conj(s - s.mean())).sum() / (np.abs(s - s.mean()) ** 2).sum()
    return a, d.mean() - a * s.mean()


def landmark_template(path, dataset):
    """Where YuNet's five landmarks sit in dlib's unit face: each face's YuNet points
    mapped by the similarity that takes its shape-predictor points onto dlib's
    template, then the median over the dataset's faces."""
    points = []
    for line in open(path):
        r = json.loads(line) if line.strip() else {}
        if r.get("dataset") != dataset or not r.get("landmarks") or not r.get("detector_landmarks"):
            continue
        a, b = similarity(np.array(r["landmarks"]), DLIB_TEMPLATE)
        y = np.array(r["detector_landmarks"])
        z = a * (y[:, 0] + 1j * y[:, 1]) + b
        points.append(np.stack([z.real, z.imag], axis=1))
    return np.round(np.median(np.array(points), axis=0), 4).tolist()


def main():
    import sys
    if len(sys.argv) == 4 and sys.argv[1] == "template":
        # choose-optional-set.py template READINGS.jsonl DATASET: the template, as JSON.
        print(json.dumps(landmark_template(sys.argv[2], sys.argv[3])))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("readings", nargs="+", help="NAME=FILE.jsonl, one per crop variant of the optional set")
    ap.add_argument("--default", required=True, help="the default set's readings (FILE.jsonl)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=29)
    ap.add_argument("--json", help="also write the figures as JSON here")
    a = ap.parse_args()

    def load(path):
        rows = {}
        for line in open(path):
            if line.strip():
                r = json.loads(line)
                if "nets" in r or "age_distribution" in r:
                    rows[r["file"]] = r
        return rows

    default_rows = load(a.default)
    variants = {}
    for spec in a.readings:
        name, _, path = spec.partition("=")
        variants[name] = load(path)
    names = list(variants)
    files = sorted(set(default_rows).intersection(*(set(v) for v in variants.values())))
    faces = {n: Faces(variants[n], default_rows, files) for n in names}
    base = faces[names[0]]
    fair = base.dataset == "FairFace"
    utk = base.dataset == "UTKFace"
    print(f"{len(files)} faces found in every variant: {fair.sum()} FairFace, {utk.sum()} UTKFace")

    rng = np.random.default_rng(a.seed)
    fold = np.full(len(files), -1)
    for g in (True, False):
        idx = np.where(fair & (base.male == g))[0]
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % a.folds

    rows = []
    for k in range(a.folds):
        train_mask, test_mask = fair & (fold != k), fair & (fold == k)

        def crop_score(n):
            t = faces[n].subset(train_mask)
            return np.mean([((t.dlib_gender >= 0) == t.male).mean(), ((t.faceapi_gender >= 0) == t.male).mean(),
                            t.age_right(t.faceapi_age).mean()])

        variant = max(names, key=crop_score)
        f = faces[variant]
        train, test, utkf = f.subset(train_mask), f.subset(test_mask), f.subset(utk)

        t1, t2 = fit_temperature(train.dlib_gender, train.male), fit_temperature(train.faceapi_gender, train.male)
        candidates = {
            "mean": {"weights": [0.5 / t1, 0.5 / t2]},
            "fitted": {"weights": list(fit_weights(np.stack([train.dlib_gender, train.faceapi_gender], axis=1), train.male))},
            "faceapi alone": {"weights": [0.0, 1 / t2]},
            "dlib alone": {"weights": [1 / t1, 0.0]},
        }
        row = {"fold": k, "variant": variant, "gender": {}, "age": {}}
        for cname, choice in candidates.items():
            logodds, confidence, right = gender_answer(test, choice)
            u_logodds, u_conf, u_right = gender_answer(utkf, choice)
            acc_d, cov = decided(confidence, right, GENDER_THRESHOLD)
            u_acc_d, u_cov = decided(u_conf, u_right, GENDER_THRESHOLD)
            row["gender"][cname] = {
                "weights": choice["weights"], "log_loss": log_loss(logodds, test.male), "accuracy": float(right.mean()),
                "decided_accuracy": acc_d, "coverage": cov, "at_80": at_coverage(confidence, right, 0.8),
                "utk_accuracy": float(u_right.mean()), "utk_decided_accuracy": u_acc_d, "utk_coverage": u_cov,
                "utk_at_85": at_coverage(u_conf, u_right, 0.85),
            }
        spread = fit_spread(train)
        row["spread"] = spread
        for source, ages in (("faceapi", "faceapi_age"), ("dlib", "dlib_age")):
            row["age"][source] = {"in_range": float(test.age_right(getattr(test, ages)).mean()),
                                  "utk_group_exact": float(utkf.age_right(getattr(utkf, ages)).mean()),
                                  "utk_mae": float(np.abs(getattr(utkf, ages) - utkf.exact).mean())}
        right = test.age_right(test.faceapi_age)
        u_right = utkf.age_right(utkf.faceapi_age)
        row["age_confidence"] = {}
        for measure in ("spread", "disagreement", "dlib group probability"):
            c = age_confidence(test, measure, spread)
            uc = age_confidence(utkf, measure, spread)
            entry = {"auroc": auroc(c, right), "at_90": at_coverage(c, right, 0.9), "at_80": at_coverage(c, right, 0.8),
                     "at_70": at_coverage(c, right, 0.7), "utk_auroc": auroc(uc, u_right)}
            if measure == "spread":
                entry["decided_accuracy"], entry["coverage"] = decided(c, right, AGE_THRESHOLD)
                entry["utk_decided_accuracy"], entry["utk_coverage"] = decided(uc, u_right, AGE_THRESHOLD)
            row["age_confidence"][measure] = entry
        rows.append(row)

    def report(title, path, keys, percent=True):
        print(title)
        for key in keys:
            values = [path(r)[key] for r in rows]
            m, s = mean_sd(values)
            text = f"{100 * m:.1f} ± {100 * s:.1f} %" if percent else f"{m:.3f} ± {s:.3f}"
            print(f"    {key:22s} {text}")

    print("crop variant chosen per fold:", [r["variant"] for r in rows])
    for cname in rows[0]["gender"]:
        report(f"gender: {cname}", lambda r: r["gender"][cname],
               ["accuracy", "decided_accuracy", "coverage", "at_80", "utk_accuracy", "utk_decided_accuracy", "utk_coverage",
                "utk_at_85"])
        report("", lambda r: r["gender"][cname], ["log_loss"], percent=False)
    gender_kept = min(["mean", "fitted"], key=lambda c: np.mean([r["gender"][c]["log_loss"] for r in rows]))
    weights = np.median(np.array([r["gender"][gender_kept]["weights"] for r in rows]), axis=0)
    print(f"gender kept: {gender_kept} (lower held-out log-loss); weights per fold "
          f"{[[round(w, 3) for w in r['gender'][gender_kept]['weights']] for r in rows]}, median {weights.round(3).tolist()}")
    for source in ("faceapi", "dlib"):
        report(f"age from {source}", lambda r: r["age"][source], ["in_range", "utk_group_exact"])
        report("", lambda r: r["age"][source], ["utk_mae"], percent=False)
    for measure in rows[0]["age_confidence"]:
        keys = ["at_90", "at_80", "at_70"] + (["decided_accuracy", "coverage", "utk_decided_accuracy", "utk_coverage"]
                                              if measure == "spread" else [])
        report(f"age confidence: {measure}", lambda r: r["age_confidence"][measure], keys)
        report("", lambda r: r["age_confidence"][measure], ["auroc", "utk_auroc"], percent=False)
    # The spread needs nothing but face-api.js's age; the other two need the dlib age net
    # run on every face as well. One of those is kept only where its paired gain in
    # held-out AUROC is above two standard errors.
    measure_kept = "spread"
    for measure in ("disagreement", "dlib group probability"):
        gain = np.array([r["age_confidence"][measure]["auroc"] - r["age_confidence"]["spread"]["auroc"] for r in rows])
        error = gain.std(ddof=1) / math.sqrt(len(gain))
        print(f"age confidence: {measure} - spread, AUROC per fold {gain.round(3).tolist()}, mean {gain.mean():.3f} ± {error:.3f} (s.e.)")
        best = np.mean([r["age_confidence"][measure_kept]["auroc"] for r in rows])
        if gain.mean() > 2 * error and np.mean([r["age_confidence"][measure]["auroc"] for r in rows]) > best:
            measure_kept = measure
    spread = float(np.median([r["spread"] for r in rows]))
    print(f"age confidence kept: {measure_kept}; spread per fold "
          f"{[round(r['spread'], 3) for r in rows]}, median {spread:.3f}")
    if a.json:
        json.dump({"folds": rows, "gender": gender_kept, "weights": weights.tolist(), "age_confidence": measure_kept,
                   "spread": spread}, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
