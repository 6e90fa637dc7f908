"""Make three-faces.jpg from scikit-image's astronaut.png (NASA, public domain): run by hand, its output committed.

    pip download --no-deps scikit-image && unzip -j scikit_image-*.whl skimage/data/astronaut.png
    python tests/data/faces/make.py astronaut.png

The photo of Eileen Collins three times: as it is, mirrored, and at three quarters of its size, lower down.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image


def main(source: Path) -> None:
    """Write three-faces.jpg beside this script."""
    with Image.open(source) as img:
        one = img.convert("RGB")
    side = one.width
    out = Image.new("RGB", (3 * side, side), (40, 40, 40))
    out.paste(one, (0, 0))
    out.paste(one.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (side, 0))
    out.paste(one.resize((side * 3 // 4, side * 3 // 4)), (2 * side + 60, 80))
    out.save(Path(__file__).with_name("three-faces.jpg"), "JPEG", quality=80)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
