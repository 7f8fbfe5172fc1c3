#!/usr/bin/python3
"""Compose etc/samples/day.mp4: six minutes of a corridor that is empty most of the
time, as a shop's camera sees a quiet day, with the ground truth beside it (day.json).

It is the test video for the motion gate. The empty stretches are what a camera
gives: sensor noise in every frame (seeded), a slow flicker of the light, a light
switched on (a brightness and contrast step), a lamp lighting one side of the
picture, and an auto-exposure step back. Six
people (the FairFace photos of the samples, CC BY 4.0) pass: one walks through, one
walks in and stands still for 16 s before leaving, two cross each other, two more
walk through. People are in view about 17 % of the time.

usage: /usr/bin/python3 etc/samples/compose_day.py   (needs python3-opencv, python3-numpy)
"""
import os

import cv2
import numpy as np

from compose_walkers import background, position, scene, sprite, write_truth

HERE = os.path.dirname(os.path.abspath(__file__))
WIDTH, HEIGHT, FPS, SECONDS = 640, 360, 5, 360
NOISE_SIGMA = 2.0  # grey levels, per pixel and channel, new in every frame
SEED = 28

# name, photo, labelled gender, labelled age range, path: list of (time s, x centre, y centre)
PEOPLE = [
    ("D1 walks through", "fairface_0152.jpg", "male", "20-29", [(20, -80, 150), (30, 720, 150)]),
    ("D2 stands still for 16 s", "fairface_0121.jpg", "female", "20-29",
     [(60, -80, 190), (64, 320, 190), (80, 320, 190), (84, 720, 190)]),
    ("D3 crosses left to right", "fairface_0262.jpg", "male", "40-49", [(140, -80, 110), (150, 720, 110)]),
    ("D4 crosses right to left", "fairface_0002.jpg", "female", "30-39", [(140, 720, 250), (150, -80, 250)]),
    ("D5 walks through", "fairface_0031.jpg", "female", "40-49", [(220, 720, 180), (229, -80, 180)]),
    ("D6 walks through", "fairface_0055.jpg", "male", "30-39", [(300, -80, 170), (310, 720, 170)]),
]

# (time s, gain, offset): the light as the camera sees it from that time on.
LIGHTING = [(0, 1.0, 0.0), (100, 1.12, 14.0), (250, 0.94, 4.0)]
# From this time a lamp over the door lights the left of the picture: up to this
# many grey levels, fading out across the middle.
LAMP_ON, LAMP_LEVELS = 180, 60.0


def light(t):
    gain, offset = 1.0, 0.0
    for start, g, o in LIGHTING:
        if t >= start:
            gain, offset = g, o
    # Mains flicker as a slow beat against the frame rate: about 1.5 grey levels.
    return gain, offset + 1.5 * np.sin(2 * np.pi * 0.7 * t)


def lamp():
    """The lamp's added light per pixel: full on the left 40 %, none beyond 60 %."""
    x = np.arange(WIDTH, dtype=np.float32) / WIDTH
    ramp = np.clip((0.6 - x) / 0.2, 0, 1) * LAMP_LEVELS
    return np.broadcast_to(ramp[None, :, None], (HEIGHT, WIDTH, 3))


def main():
    rng = np.random.default_rng(SEED)
    base = background()
    lamp_light = lamp()
    sprites = [sprite(photo) for _, photo, *_ in PEOPLE]
    writer = cv2.VideoWriter(os.path.join(HERE, "day.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    for index in range(FPS * SECONDS):
        t = index / FPS
        frame = scene(base, sprites, PEOPLE, t)
        gain, offset = light(t)
        lit = frame.astype(np.float32) + (lamp_light if t >= LAMP_ON else 0)
        noisy = lit * gain + offset + rng.normal(0, NOISE_SIGMA, frame.shape)
        writer.write(np.clip(noisy, 0, 255).astype(np.uint8))
    writer.release()
    in_view = sum(1 for index in range(FPS * SECONDS)
                  if any(position(path, index / FPS) for *_, path in PEOPLE)) / (FPS * SECONDS)
    truth = {
        "video": "day.mp4", "width": WIDTH, "height": HEIGHT, "fps": FPS, "seconds": SECONDS,
        "people_in_view_share": round(in_view, 3),
        "lighting_steps": [{"at": start, "gain": g, "offset": o} for start, g, o in LIGHTING[1:]],
        "lamp": {"at": LAMP_ON, "grey_levels": LAMP_LEVELS, "where": "the left 40 % of the picture, fading out by 60 %"},
        "noise_sigma": NOISE_SIGMA,
        "people": [
            {"name": name, "photo": photo, "gender": gender, "age_range": ages,
             "enters": path[0][0], "leaves": path[-1][0]}
            for name, photo, gender, ages, path in PEOPLE
        ],
        "attribution": "faces from FairFace (Karkkainen & Joo, WACV 2021), CC BY 4.0; see ATTRIBUTION.md",
    }
    write_truth("day.json", truth, indent=2)


if __name__ == "__main__":
    main()
