#!/usr/bin/python3
"""Compose etc/samples/varied.mp4: twenty people (FairFace development photos,
CC BY 4.0) who each stay about eight seconds in view while their appearance
changes from frame to frame, with the ground truth beside it (varied.json).

The video exercises the per-person votes: in every frame each face is drawn at
its own scale, slight rotation, blur, brightness, JPEG quality and partial turn
(the face squeezed sideways, as a head turning away looks), so one person's
per-frame answers disagree sometimes. The people are drawn at random (seed 15),
ten per labelled gender, from the FairFace rows of the development set's
labels.csv: not chosen by how the nets do on them.

usage: /usr/bin/python3 etc/samples/compose_varied.py [../shared/faces/labels.csv]
       (needs Debian's python3-opencv and python3-numpy)
"""
import csv
import os
import random
import sys

import cv2
import numpy as np

from compose_walkers import paste, write_truth  # the same blending, the same 640x360 frame

HERE = os.path.dirname(os.path.abspath(__file__))
WIDTH, HEIGHT, FPS = 640, 360, 5
PEOPLE, STAY, STAGGER, FIRST = 20, 8.0, 4.5, 1.0
LANES = [120, 245]
SEED = 15


def background():
    """A plain corridor: a wall gradient, a floor, a door and a few posters."""
    image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    for y in range(HEIGHT):
        image[y, :] = (200 - y // 6, 205 - y // 8, 210 - y // 10) if y < 300 else (90, 100, 110)
    cv2.rectangle(image, (40, 60), (140, 300), (70, 90, 120), -1)
    cv2.rectangle(image, (470, 40), (600, 130), (160, 120, 90), -1)
    return image


def choose(labels):
    rows = [r for r in csv.DictReader(open(labels)) if r["dataset"] == "FairFace"]
    rng = random.Random(SEED)
    chosen = []
    for gender in ("female", "male"):
        pool = sorted((r for r in rows if r["gender"] == gender), key=lambda r: r["file"])
        chosen += rng.sample(pool, PEOPLE // 2)
    rng.shuffle(chosen)
    folder = os.path.dirname(os.path.abspath(labels))
    return [(os.path.join(folder, r["file"]), os.path.basename(r["file"]), r["gender"], f"{r['age_min']}-{r['age_max']}")
            for r in chosen]


def variant(photo, rng):
    """One frame's look of a person: (image, mask, side) with a random scale, rotation,
    blur, brightness, JPEG quality and partial turn."""
    side = int(rng.uniform(110, 170))
    image = cv2.resize(photo, (side, side), interpolation=cv2.INTER_AREA)
    # Partial turn: squeeze the face sideways.
    squeeze = rng.uniform(0.65, 1.0)
    width = max(8, int(side * squeeze))
    image = cv2.resize(image, (width, side), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((side, side, 3), np.uint8)
    left = (side - width) // 2
    canvas[:, left:left + width] = image
    mask = np.zeros((side, side), np.float32)
    cv2.ellipse(mask, (side // 2, side // 2), (max(4, width // 2 - 6), side // 2 - 2), 0, 0, 360, 1.0, -1)
    # Slight rotation of both.
    angle = rng.uniform(-12, 12)
    rotation = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
    canvas = cv2.warpAffine(canvas, rotation, (side, side), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(mask, rotation, (side, side), flags=cv2.INTER_LINEAR)
    mask = cv2.GaussianBlur(mask, (15, 15), 0)
    # Brightness, blur, compression.
    canvas = np.clip(canvas.astype(np.float32) * rng.uniform(0.6, 1.3), 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        canvas = cv2.GaussianBlur(canvas, (0, 0), rng.uniform(0.5, 2.2))
    quality = int(rng.uniform(15, 95))
    canvas = cv2.imdecode(cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], cv2.IMREAD_COLOR)
    return canvas, mask[:, :, None], side


def main():
    labels = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../../shared/faces/labels.csv")
    people = choose(labels)
    rng = random.Random(SEED)
    plan = []
    for index, (path, name, gender, ages) in enumerate(people):
        enters = FIRST + index * STAGGER
        lane = LANES[index % 2]
        # Walks slowly from left of centre to right of centre while in view.
        plan.append(dict(photo=name, gender=gender, age_range=ages, enters=enters, leaves=enters + STAY,
                         path=[[enters, 200.0, lane], [enters + STAY, 440.0, lane]], image=cv2.imread(path)))
    seconds = plan[-1]["leaves"] + 1.0
    writer = cv2.VideoWriter(os.path.join(HERE, "varied.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    base = background()
    for index in range(int(seconds * FPS)):
        t = index / FPS
        frame = base.copy()
        for person in plan:
            (t0, x0, y0), (t1, x1, y1) = person["path"]
            if t0 <= t <= t1:
                f = (t - t0) / (t1 - t0)
                image, mask, side = variant(person["image"], rng)
                paste(frame, image, mask, x0 + f * (x1 - x0), y0 + f * (y1 - y0), side)
        writer.write(frame)
    writer.release()
    truth = {
        "video": "varied.mp4", "width": WIDTH, "height": HEIGHT, "fps": FPS, "seconds": seconds,
        "people": [{k: v for k, v in p.items() if k != "image"} for p in plan],
        "attribution": "faces from FairFace (Karkkainen & Joo, WACV 2021), CC BY 4.0, adapted; see ATTRIBUTION.md",
    }
    write_truth("varied.json", truth, indent=1)


if __name__ == "__main__":
    main()
