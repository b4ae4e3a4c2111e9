"""Every kind of bad file stops at load_image with one error type naming the file and the reason."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from fewshot_studio.core.errors import ImageError
from fewshot_studio.core.images import load_image, scan_folder


def png_bytes(img: Image.Image, fmt="PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("name, content, reason", [
    ("empty.png", b"", "empty"),
    ("notes.png", b"this is not an image at all", "not an image"),
    ("data.bin", bytes(range(256)) * 4, "not an image"),
])
def test_unusable_files_raise_image_error_with_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImageError) as info:
        load_image(path)
    assert info.value.path == path
    assert reason in info.value.reason
    assert str(path) in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageError, match="not found"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="is a folder"):
        load_image(tmp_path)


@pytest.mark.parametrize("fmt, suffix", [("PNG", "png"), ("JPEG", "jpg")])
def test_truncated_files_are_reported_as_truncated(tmp_path, fmt, suffix):
    rng = np.random.default_rng(0)
    data = png_bytes(Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)), fmt)
    path = tmp_path / f"cut.{suffix}"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated or corrupt"):
        load_image(path)


def test_decompression_bomb_limit_is_enforced(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.new("RGB", (100, 100)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4000)  # 10,000 px is over twice the limit
    with pytest.raises(ImageError, match="too large"):
        load_image(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 6000)  # over the limit, under twice: PIL only warns
    with pytest.raises(ImageError, match="too large"):
        load_image(path)


@pytest.mark.parametrize("mode, value, expected", [
    ("1", 1, (255, 255, 255)),
    ("L", 100, (100, 100, 100)),
    ("CMYK", (0, 255, 255, 0), (255, 0, 0)),
    ("I;16", 65535, (255, 255, 255)),
    ("I;16", 32896, (128, 128, 128)),
])
def test_modes_become_rgb(tmp_path, mode, value, expected):
    path = tmp_path / f"img_{mode.replace(';', '')}.{'jpg' if mode == 'CMYK' else 'png' if mode != 'I;16' else 'tif'}"
    Image.new(mode, (8, 8), value).save(path)
    img = load_image(path)
    assert img.mode == "RGB"
    assert img.getpixel((4, 4)) == pytest.approx(expected, abs=3)


def test_float_image_is_stretched_to_full_range(tmp_path):
    arr = np.linspace(-1, 1, 64, dtype=np.float32).reshape(8, 8)
    path = tmp_path / "f.tif"
    Image.fromarray(arr, "F").save(path)
    img = np.asarray(load_image(path))
    assert img.min() == 0 and img.max() == 255


@pytest.mark.parametrize("mode, fill", [("RGBA", (255, 0, 0, 0)), ("LA", (0, 0))])
def test_transparency_is_composited_on_white(tmp_path, mode, fill):
    path = tmp_path / f"t_{mode}.png"
    Image.new(mode, (8, 8), fill).save(path)
    assert load_image(path).getpixel((1, 1)) == (255, 255, 255)


def test_half_transparent_rgba_blends_with_white(tmp_path):
    path = tmp_path / "half.png"
    Image.new("RGBA", (4, 4), (0, 0, 0, 128)).save(path)
    assert load_image(path).getpixel((0, 0)) == pytest.approx((127, 127, 127), abs=2)


def test_palette_with_transparency(tmp_path):
    img = Image.new("P", (4, 4), 0)
    img.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    img.putpixel((0, 0), 1)
    path = tmp_path / "pal.png"
    img.save(path, transparency=0)
    out = load_image(path)
    assert out.getpixel((0, 0)) == (10, 200, 30)
    assert out.getpixel((3, 3)) == (255, 255, 255)


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (40, 20), (200, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rot.jpg"
    img.save(path, exif=exif)
    assert load_image(path).size == (20, 40)


def test_animated_gif_gives_first_frame(tmp_path):
    frames = [Image.new("RGB", (10, 10), c) for c in [(255, 0, 0), (0, 0, 255)]]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    r, g, b = load_image(path).getpixel((5, 5))
    assert r > 200 and b < 50


def test_scan_folder_keeps_images_and_reports_skips(tmp_path):
    (tmp_path / "sub").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    Image.new("RGB", (8, 8)).save(tmp_path / "sub" / "b.jpg")
    (tmp_path / "readme.txt").write_text("hello")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 garbage")
    (tmp_path / ".hidden.png").write_bytes(b"")
    result = scan_folder(tmp_path)
    assert [p.name for p in result.images] == ["a.png", "b.jpg"]
    reasons = {s.path.name: s.reason for s in result.skipped}
    assert set(reasons) == {"readme.txt", "broken.jpg"}
    assert "not an image" in reasons["readme.txt"]
