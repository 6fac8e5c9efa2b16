"""Plots for both colour schemes: a benchmark plot's white background made transparent.

Every benchmark draws its result with matplotlib, on white, into
``docs/<section>/<topic>/benchmark_*.png`` (``nox -s measure``). The site shows each plot on
Material's light scheme and on its dark one (slate):

* in the light scheme a transparent plot looks exactly as it was drawn;
* in the dark scheme ``docs/stylesheets/extra.css`` turns it with
  ``filter: invert(1) hue-rotate(180deg)``: black text and axes become white, each colour keeps
  its hue with its lightness inverted, and the page's own background shows through.

Run as a script, it rewrites the PNGs it is given in place::

    python tests/plots/themes.py docs/*/*/benchmark_*.png

Each pixel drawn over white gets the smallest opacity, and the colour, that give back the same
pixel over white (the "colour to alpha" of image editors): pure white becomes transparent and
antialiased text and lines keep smooth edges on any background. A PNG that already has a
transparent pixel is left as it is, so the command can run after every measurement. Needs only
the standard library and Pillow (which matplotlib depends on).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image


def unblend_from_white(red: int, green: int, blue: int) -> tuple[int, int, int, int]:
    """The ``(r, g, b, alpha)`` pixel, all 0-255, that gives ``(red, green, blue)`` over white.

    Alpha is the smallest that can: ``255 - min(red, green, blue)``; pure white gives alpha 0
    (and white, so that nothing else can show at its place), black and every saturated colour
    stay opaque.
    """
    alpha = 255 - min(red, green, blue)
    if alpha == 0:
        return 255, 255, 255, 0
    scale = 255 / alpha
    return (round(255 - (255 - red) * scale), round(255 - (255 - green) * scale),
            round(255 - (255 - blue) * scale), alpha)


def has_transparency(image: Image.Image) -> bool:
    """Whether any pixel of ``image`` is less than fully opaque (a PNG's ``tRNS`` palette counts)."""
    if image.mode in ("RGBA", "LA", "PA"):
        low, _ = image.getchannel("A").getextrema()
        return low < 255
    return "transparency" in image.info


def make_transparent(image: Image.Image) -> Image.Image:
    """A copy of ``image`` (drawn on an opaque white background) in RGBA, unblended from white.

    Over white the copy shows the same pixels, to within 1 of 255 per channel (rounding).
    """
    rgb = image.convert("RGB")
    cache: dict[bytes, bytes] = {}
    out = bytearray()
    data = rgb.tobytes()
    for i in range(0, len(data), 3):
        pixel = data[i:i + 3]
        converted = cache.get(pixel)
        if converted is None:
            converted = cache[pixel] = bytes(unblend_from_white(*pixel))
        out += converted
    return Image.frombytes("RGBA", rgb.size, bytes(out))


def theme_plot(path: Path) -> bool:
    """Rewrite the PNG at ``path`` with a transparent background; False if it already had one.

    Raises:
        FileNotFoundError: no file at ``path``.
        PIL.UnidentifiedImageError: the file is not an image.
    """
    with Image.open(path) as image:
        image.load()
    if has_transparency(image):
        return False
    make_transparent(image).save(path, format="PNG", optimize=True)
    return True


def main(argv: list[str]) -> int:
    """Theme each PNG named in ``argv``; print what was rewritten; return an exit status."""
    if not argv:
        print("usage: python tests/plots/themes.py PNG...", file=sys.stderr)
        return 2
    for name in argv:
        changed = theme_plot(Path(name))
        print(f"{name}: {'background made transparent' if changed else 'already transparent, left as it is'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
