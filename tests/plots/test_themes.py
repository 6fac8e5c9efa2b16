"""Benchmark plots for both colour schemes (tests/plots/themes.py and docs/stylesheets/extra.css).

Every ``docs/**/benchmark_*.png`` has a transparent background; making it transparent keeps
every pixel the same over white (the light scheme); and in the dark scheme the stylesheet
inverts exactly those images, in a site built with the project's configuration.
"""

import random
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from plots.themes import has_transparency, main, make_transparent, theme_plot, unblend_from_white
from test_code_width import browser, served_site  # noqa: F401  (browser is a fixture)

ROOT = Path(__file__).resolve().parents[2]
COMMAND = "python tests/plots/themes.py"


def over(image: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """``image`` composited over an opaque background of ``colour``, as RGB."""
    background = Image.new("RGBA", image.size, (*colour, 255))
    background.alpha_composite(image.convert("RGBA"))
    return background.convert("RGB")


def largest_difference(a: Image.Image, b: Image.Image) -> int:
    """The largest difference of one channel of one pixel between two RGB images of one size."""
    return max(high for _, high in ImageChops.difference(a, b).getextrema())


def a_plot() -> Image.Image:
    """A small plot-like image on white: black axes and text, two coloured antialiased lines, grey grid."""
    image = Image.new("RGB", (480, 320), "white")
    draw = ImageDraw.Draw(image)
    for x in range(60, 460, 40):
        draw.line([(x, 20), (x, 280)], fill=(235, 235, 235))
    draw.rectangle([60, 20, 460, 280], outline="black", width=2)
    draw.line([(60, 260), (200, 120), (460, 40)], fill=(31, 119, 180), width=5)  # matplotlib's C0
    draw.line([(60, 270), (200, 200), (460, 150)], fill=(255, 127, 14), width=5)  # C1
    draw.text((200, 290), "tokens per second", fill="black")
    return image.resize((240, 160), Image.LANCZOS)  # antialiased edges, as matplotlib draws them


def test_unblending_gives_back_every_colour_over_white():
    rng = random.Random(0)
    colours = [(255, 255, 255), (0, 0, 0), (31, 119, 180), (254, 254, 254), (128, 128, 128)]
    colours += [tuple(rng.randrange(256) for _ in range(3)) for _ in range(2000)]
    for colour in colours:
        r, g, b, alpha = unblend_from_white(*colour)
        again = tuple(round((c * alpha + 255 * (255 - alpha)) / 255) for c in (r, g, b))
        assert max(abs(x - y) for x, y in zip(again, colour)) <= 1, (colour, (r, g, b, alpha), again)
    assert unblend_from_white(255, 255, 255) == (255, 255, 255, 0)
    assert unblend_from_white(0, 0, 0) == (0, 0, 0, 255)
    assert unblend_from_white(31, 119, 180)[3] == 224  # a saturated colour stays nearly opaque


def test_a_plot_looks_the_same_over_white_and_its_background_is_transparent():
    plot = a_plot()
    themed = make_transparent(plot)
    assert themed.mode == "RGBA" and themed.size == plot.size
    assert largest_difference(over(themed, (255, 255, 255)), plot) <= 1
    assert themed.getpixel((0, 0))[3] == 0 and themed.getpixel((239, 159))[3] == 0
    # The black frame and text stay black (the stylesheet inverts them on the dark scheme),
    # with their antialiased edges as partly transparent black.
    data = themed.tobytes()
    black = [data[i + 3] for i in range(0, len(data), 4) if data[i:i + 3] == b"\0\0\0"]
    assert max(black) >= 220 and min(black) < 100


def test_theme_plot_rewrites_a_png_once(tmp_path):
    path = tmp_path / "benchmark_x.png"
    a_plot().save(path)
    assert theme_plot(path) is True
    themed = path.read_bytes()
    with Image.open(path) as image:
        assert has_transparency(image)
    assert theme_plot(path) is False, "a second run must leave a transparent PNG as it is"
    assert path.read_bytes() == themed


def test_the_command_names_what_it_did(tmp_path, capsys):
    path = tmp_path / "benchmark_x.png"
    a_plot().save(path)
    assert main([str(path)]) == 0
    assert main([str(path)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{path}: background made transparent",
                                                    f"{path}: already transparent, left as it is"]
    assert main([]) == 2
    with pytest.raises(FileNotFoundError):
        main([str(tmp_path / "missing.png")])


def test_every_benchmark_plot_has_a_transparent_background():
    plots = sorted((ROOT / "docs").rglob("benchmark_*.png"))
    assert plots, "no docs/**/benchmark_*.png: `nox -s measure` writes them"
    opaque = []
    for path in plots:
        with Image.open(path) as image:
            rgba = image.convert("RGBA")
        corners = [rgba.getpixel((x, y))[3] for x in (0, rgba.width - 1) for y in (0, rgba.height - 1)]
        low, high = rgba.getchannel("A").getextrema()
        if max(corners) != 0 or high != 255:
            opaque.append(path.relative_to(ROOT).as_posix())
    assert not opaque, (
        "benchmark plots with an opaque background (white on the dark scheme) or nothing opaque: "
        f"{', '.join(opaque)}; run `{COMMAND} {' '.join(opaque)}`")


# A topic folder as the site has them: the plot beside the overview and its sub-page, whose
# URL is one folder deeper (the built sub-page refers to ../benchmark_demo.png).
DEMO = {"t/index.md": "# Plots\n\n![a plot](benchmark_demo.png)\n\n![not a plot](photo.png)\n\n"
                      "[The sub-page](sub.md)\n",
        "t/sub.md": "# A sub-page\n\n![a plot on a sub-page](benchmark_demo.png)\n"}


@pytest.fixture(scope="module")
def plot_site(tmp_path_factory) -> str:
    """A two-page site with a benchmark plot and another image, built as the real site is."""
    folder = tmp_path_factory.mktemp("plots")
    a_plot().save(folder / "plot.png")
    theme_plot(folder / "plot.png")
    png = (folder / "plot.png").read_bytes()
    with served_site(folder, {**DEMO, "t/benchmark_demo.png": png, "t/photo.png": png}) as url:
        yield url


@pytest.mark.parametrize(("scheme", "inverted"), [("light", "none"), ("dark", "invert(1) hue-rotate(180deg)")])
def test_the_dark_scheme_inverts_benchmark_plots_only(browser, plot_site, scheme, inverted):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        filters = {}
        for path in ("t/", "t/sub/"):
            page.goto(plot_site + path)
            page.wait_for_function("() => typeof document$ !== 'undefined'")
            filters.update(page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
                '.md-content img')].map((img) => [img.alt, getComputedStyle(img).filter]))"""))
        body_scheme = page.locator("body").get_attribute("data-md-color-scheme")
    finally:
        context.close()
    assert body_scheme == {"light": "default", "dark": "slate"}[scheme]
    assert filters == {"a plot": inverted, "a plot on a sub-page": inverted, "not a plot": "none"}, (
        f"{scheme} scheme: the filter of each image (docs/stylesheets/extra.css)")
