#!/usr/bin/python3
"""Plays JPEG files into a v4l2loopback device as an MJPEG camera would deliver them.

    feed-mjpeg.py DEVICE FPS SECONDS FILE.jpg [FILE.jpg ...]

Sets the loopback's output format to MJPEG at the size of the first file, then
writes the files in turn, FPS a second, for SECONDS. Readers of DEVICE then see
a capture device offering MJPG at that size (v4l2loopback with exclusive_caps=1
turns into a capture device once a writer has set the format).
"""
import fcntl
import os
import struct
import sys
import time

V4L2_BUF_TYPE_VIDEO_OUTPUT = 2
V4L2_FIELD_NONE = 1
V4L2_COLORSPACE_JPEG = 7


def iowr(number, size):
    """The number of _IOWR('V', number, size) on Linux."""
    return (3 << 30) | (size << 16) | (ord('V') << 8) | number


VIDIOC_S_FMT = iowr(5, 208)    # struct v4l2_format: 4-byte type, padding, 200-byte union
VIDIOC_S_PARM = iowr(22, 204)  # struct v4l2_streamparm: 4-byte type, 200-byte union


def jpeg_size(data):
    """Width and height from a JPEG's start-of-frame segment."""
    position = 2
    while position + 9 < len(data):
        if data[position] != 0xFF:
            raise ValueError("not a JPEG segment at byte %d" % position)
        marker = data[position + 1]
        length = struct.unpack(">H", data[position + 2:position + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[position + 5:position + 9])
            return width, height
        position += 2 + length
    raise ValueError("no start-of-frame segment")


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    device, fps, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    frames = []
    for name in sys.argv[4:]:
        with open(name, "rb") as file:
            frames.append(file.read())
    width, height = jpeg_size(frames[0])
    descriptor = os.open(device, os.O_RDWR)
    pixelformat = struct.unpack("<I", b"MJPG")[0]
    pix = struct.pack("<12I", width, height, pixelformat, V4L2_FIELD_NONE, 0,
                      max(len(frame) for frame in frames) + 4096, V4L2_COLORSPACE_JPEG, 0, 0, 0, 0, 0)
    request = bytearray(struct.pack("<I4x", V4L2_BUF_TYPE_VIDEO_OUTPUT) + pix.ljust(200, b"\0"))
    fcntl.ioctl(descriptor, VIDIOC_S_FMT, request)
    # v4l2_outputparm: capability, outputmode, timeperframe (numerator, denominator)
    rate = bytearray(struct.pack("<5I", V4L2_BUF_TYPE_VIDEO_OUTPUT, 0, 0, 1000, int(fps * 1000)).ljust(204, b"\0"))
    try:
        fcntl.ioctl(descriptor, VIDIOC_S_PARM, rate)
    except OSError as error:
        print("feed-mjpeg: the rate was not set (%s); writing at %g fps anyway" % (error, fps), flush=True)
    print("feed-mjpeg: %s MJPG %dx%d at %g fps for %g s" % (device, width, height, fps, seconds), flush=True)
    end = time.monotonic() + seconds
    written = 0
    while time.monotonic() < end:
        os.write(descriptor, frames[written % len(frames)])
        written += 1
        time.sleep(1.0 / fps)
    print("feed-mjpeg: wrote %d frames" % written, flush=True)


if __name__ == "__main__":
    main()
