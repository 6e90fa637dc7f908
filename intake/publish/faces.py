"""Faces hidden in a photo: OpenCV's shipped Haar cascades, a solid fill, and the detectors run again on the result.

Runs only inside a bounded child (intake/publish/worker.py): it decodes a stranger's photo.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from intake.review.clean import CannotClean, decoded

PHOTOS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}
MAX_SIDE = 1600  # the published copy's longest side, in pixels; detection runs on exactly these pixels
CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt2.xml", "haarcascade_profileface.xml")
SCALE, NEIGHBOURS, MIN_FACE = 1.15, 3, 20  # small steps and few neighbours: rather too many boxes than a face missed
MARGIN = 0.35  # of the box's size, added on every side (hair, ears, chin, a face turned further than the box)
MAX_ROUNDS = 4
TURNS = (90, 180, 270)  # degrees counter-clockwise: the cascades find faces within about 15 degrees of upright only
FILL = (0, 0, 0)


@dataclass
class Published:
    """A photo re-encoded from its hidden pixels, with the regions hidden (x, y, w, h) and what else was done."""

    jpeg: bytes
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    rounds: int = 0
    notes: list[str] = field(default_factory=list)


def check_installed() -> None:
    """Raise CannotClean, saying what to install, unless OpenCV 4.x and its cascades are there (without loading it)."""
    import importlib.util

    spec = importlib.util.find_spec("cv2")
    folder = Path(spec.origin).parent / "data" if spec is not None and spec.origin else None
    missing = [name for name in CASCADES if folder is None or not (folder / name).is_file()]
    if missing:
        raise CannotClean(f"OpenCV's Haar cascades are not installed ({', '.join(missing)}): install "
                          "opencv-python-headless 4.x (`pip install 'opencv-python-headless>=4.10,<5'`); 5.x has none")


class Detectors:
    """The frontal (default, alt2) and profile cascades, the profile one also on the mirrored photo, on the photo as
    it is and turned by each right angle: a photo stored sideways with no orientation tag (sent before the page's
    cleaner kept the tag, or lost elsewhere), a person lying down. A head tilted by 30-60 degrees is
    still missed (docs/review.md)."""

    def __init__(self) -> None:
        import cv2

        cv2.setNumThreads(1)
        self.cascades = [cv2.CascadeClassifier(cv2.data.haarcascades + name) for name in CASCADES]
        if any(c.empty() for c in self.cascades):
            raise RuntimeError("OpenCV's Haar cascades are missing: reinstall opencv-python-headless 4.x")

    def find(self, rgb: object) -> list[tuple[int, int, int, int]]:
        """Every box any cascade finds in the RGB array, as it is and turned by each of TURNS (mapped back)."""
        import cv2

        gray = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        height, width = gray.shape[:2]
        found = self._upright(gray)
        for angle in TURNS:
            code = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}[angle]
            found += [turned_back(box, angle, width, height) for box in self._upright(cv2.rotate(gray, code))]
        return found

    def _upright(self, gray: object) -> list[tuple[int, int, int, int]]:
        """Every cascade's boxes, the profile one's also on the mirrored copy."""
        import cv2

        width = gray.shape[1]  # type: ignore[attr-defined]
        found = []
        for cascade in self.cascades:
            found += [tuple(map(int, b)) for b in self._run(cascade, gray)]
        mirrored = self._run(self.cascades[-1], cv2.flip(gray, 1))
        return found + [(width - int(x) - int(w), int(y), int(w), int(h)) for x, y, w, h in mirrored]

    @staticmethod
    def _run(cascade: object, gray: object) -> list:
        found = cascade.detectMultiScale(gray, scaleFactor=SCALE, minNeighbors=NEIGHBOURS,  # type: ignore[attr-defined]
                                         minSize=(MIN_FACE, MIN_FACE))
        return list(found) if len(found) else []


def publish_photo(data: bytes, kind: str, detectors: Detectors) -> Published:
    """The photo with every face found hidden, re-encoded as a new JPEG from pixels; CannotClean saying why not."""
    if kind not in PHOTOS:
        raise CannotClean(f"not a photo intake can publish ({kind or 'unknown type'})")
    rgb, notes = decoded(lambda: _pixels(data, PHOTOS[kind]), "could not be processed")
    return _hide_all(rgb, detectors, notes)


def _pixels(data: bytes, fmt: str) -> tuple[object, list[str]]:
    """The first frame's pixels as RGB, turned upright by its EXIF orientation, at most MAX_SIDE a side."""
    import numpy as np
    from PIL import Image, ImageOps

    notes = []
    with Image.open(io.BytesIO(data), formats=[fmt]) as img:
        if getattr(img, "n_frames", 1) > 1:
            notes.append(f"an animation of {img.n_frames} frames: only its first frame is published")
        img.draft("RGB", (MAX_SIDE, MAX_SIDE))  # a large JPEG decodes at 1/2 to 1/8 of its size
        img.load()
        upright = ImageOps.exif_transpose(img)  # before detecting: a sideways face is a face the cascades miss
        if upright.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
            upright = Image.fromarray((np.asarray(upright, dtype=np.uint32) >> 8).astype(np.uint8))
        if upright.mode in ("RGBA", "LA", "P", "PA"):
            rgba = upright.convert("RGBA")
            upright = Image.new("RGB", rgba.size, (255, 255, 255))
            upright.paste(rgba, mask=rgba.getchannel("A"))
        upright = upright.convert("RGB")
        upright.thumbnail((MAX_SIDE, MAX_SIDE))
        return np.array(upright), notes


def _hide_all(rgb: object, detectors: Detectors, notes: list[str]) -> Published:
    """Hide what the detectors find in the photo, then look again on the result (the JPEG as published, decoded)
    and hide what they find there, until they find nothing."""
    import numpy as np
    from PIL import Image

    height, width = rgb.shape[:2]  # type: ignore[attr-defined]
    hidden = merged([_grown(box, width, height) for box in detectors.find(rgb)])
    for rounds in range(1, MAX_ROUNDS + 1):
        for x, y, w, h in hidden:
            rgb[y:y + h, x:x + w] = FILL  # type: ignore[index]
        out = io.BytesIO()
        Image.fromarray(rgb).save(out, "JPEG", quality=88)  # only these pixels: no EXIF, XMP, ICC or comment
        with Image.open(io.BytesIO(out.getvalue()), formats=["JPEG"]) as result:
            found = detectors.find(np.asarray(result.convert("RGB")))
        if not found:
            return Published(out.getvalue(), hidden, rounds, notes)
        hidden = merged(hidden + [_grown(box, width, height) for box in found])
    raise CannotClean(f"not published: the detectors still found faces after {MAX_ROUNDS} rounds of hiding")


def turned_back(box: tuple[int, int, int, int], angle: int, width: int, height: int) -> tuple[int, int, int, int]:
    """A box found on the photo (width x height) turned by `angle` degrees counter-clockwise, in the photo."""
    x, y, w, h = box
    if angle == 90:
        return width - y - h, x, h, w
    if angle == 180:
        return width - x - w, height - y - h, w, h
    return y, height - x - w, h, w


def merged(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Overlapping boxes joined into the box around them, until none overlap: one region a face."""
    boxes = list(boxes)
    joined = True
    while joined:
        joined = False
        for i, j in itertools.combinations(range(len(boxes)), 2):
            (ax, ay, aw, ah), (bx, by, bw, bh) = boxes[i], boxes[j]
            if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                left, top = min(ax, bx), min(ay, by)
                boxes[i] = (left, top, max(ax + aw, bx + bw) - left, max(ay + ah, by + bh) - top)
                del boxes[j]
                joined = True
                break
    return sorted(boxes, key=lambda b: (b[1], b[0]))


def _grown(box: tuple[int, int, int, int], width: int, height: int) -> tuple[int, int, int, int]:
    """The box with MARGIN added on every side, kept inside the photo."""
    x, y, w, h = box
    dx, dy = round(w * MARGIN), round(h * MARGIN)
    left, top = max(0, x - dx), max(0, y - dy)
    return left, top, min(width, x + w + dx) - left, min(height, y + h + dy) - top
