#!/usr/bin/python3
"""Compose etc/samples/walkers.mp4: six people (FairFace photos, CC BY 4.0) walking
past a synthetic background, with the ground truth beside it (walkers.json).

No licensed real clip of people walking past a camera is available, so the test
video is made: each person is a FairFace photo cut to an oval and moved along a
path. The scenario covers a person walking through, one lingering for 30 s, two
crossing each other, and one still in view when the video ends.

usage: /usr/bin/python3 etc/samples/compose_walkers.py   (needs python3-opencv, python3-numpy)
"""
import json
import os

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
WIDTH, HEIGHT, FPS, SECONDS = 640, 360, 5, 58
SPRITE = 150  # the photo's side in the video; the face inside is about 70 px wide

# name, photo, labelled gender, labelled age range, path: list of (time s, x centre, y centre)
PEOPLE = [
    ("P1 walks through", "fairface_0152.jpg", "male", "20-29", [(2, -80, 150), (12, 720, 150)]),
    ("P2 lingers", "fairface_0121.jpg", "female", "20-29", [(5, -80, 200), (8, 420, 200), (32, 440, 190), (35, 720, 200)]),
    ("P3 crosses left to right", "fairface_0262.jpg", "male", "40-49", [(22, -80, 110), (32, 720, 110)]),
    ("P4 crosses right to left", "fairface_0002.jpg", "female", "30-39", [(22, 720, 250), (32, -80, 250)]),
    ("P5 walks through", "fairface_0031.jpg", "female", "40-49", [(42, 720, 180), (50, -80, 180)]),
    ("P6 stays to the end", "fairface_0055.jpg", "male", "30-39", [(50, -80, 170), (54, 300, 170), (58, 320, 175)]),
]


def background():
    """A plain corridor: a wall gradient, a floor, a door and a few posters."""
    image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    for y in range(HEIGHT):
        image[y, :] = (200 - y // 6, 205 - y // 8, 210 - y // 10) if y < 290 else (90, 100, 110)
    cv2.rectangle(image, (40, 60), (140, 290), (70, 90, 120), -1)
    cv2.rectangle(image, (470, 40), (600, 130), (160, 120, 90), -1)
    cv2.rectangle(image, (230, 30), (330, 90), (120, 160, 150), -1)
    return image


def sprite(photo):
    image = cv2.resize(cv2.imread(os.path.join(HERE, photo)), (SPRITE, SPRITE), interpolation=cv2.INTER_AREA)
    mask = np.zeros((SPRITE, SPRITE), np.float32)
    cv2.ellipse(mask, (SPRITE // 2, SPRITE // 2), (SPRITE // 2 - 8, SPRITE // 2 - 2), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (15, 15), 0)
    return image, mask[:, :, None]


def position(path, t):
    """Linear motion between the path's points; None outside its time span."""
    if t < path[0][0] or t > path[-1][0]:
        return None
    for (t0, x0, y0), (t1, x1, y1) in zip(path, path[1:]):
        if t0 <= t <= t1:
            f = (t - t0) / (t1 - t0) if t1 > t0 else 0
            return x0 + f * (x1 - x0), y0 + f * (y1 - y0)
    return None


def paste(frame, image, mask, cx, cy, side=SPRITE):
    """Blends a square sprite of `side` pixels into the frame through its mask, centred at (cx, cy)."""
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    x0, y0 = max(0, left), max(0, top)
    x1, y1 = min(WIDTH, left + side), min(HEIGHT, top + side)
    if x1 <= x0 or y1 <= y0:
        return
    part = (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))
    region = frame[y0:y1, x0:x1].astype(np.float32)
    frame[y0:y1, x0:x1] = (region * (1 - mask[part]) + image[part].astype(np.float32) * mask[part]).astype(np.uint8)


def scene(base, sprites, people, t):
    """The frame at time t: the background with each person in view pasted on it."""
    frame = base.copy()
    for (image, mask), (_, _, _, _, path) in zip(sprites, people):
        where = position(path, t)
        if where:
            paste(frame, image, mask, *where)
    return frame


def main():
    base = background()
    sprites = [sprite(photo) for _, photo, *_ in PEOPLE]
    writer = cv2.VideoWriter(os.path.join(HERE, "walkers.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    for index in range(FPS * SECONDS):
        writer.write(scene(base, sprites, PEOPLE, index / FPS))
    writer.release()
    truth = {
        "video": "walkers.mp4", "width": WIDTH, "height": HEIGHT, "fps": FPS, "seconds": SECONDS,
        "people": [
            {"name": name, "photo": photo, "gender": gender, "age_range": ages,
             "enters": path[0][0], "leaves": path[-1][0]}
            for name, photo, gender, ages, path in PEOPLE
        ],
        "attribution": "faces from FairFace (Karkkainen & Joo, WACV 2021), CC BY 4.0; see ATTRIBUTION.md",
    }
    write_truth("walkers.json", truth, indent=2)


def write_truth(name, truth, indent):
    """Writes a video's ground truth beside it, as JSON."""
    with open(os.path.join(HERE, name), "w") as handle:
        json.dump(truth, handle, indent=indent)
        handle.write("\n")


if __name__ == "__main__":
    main()
