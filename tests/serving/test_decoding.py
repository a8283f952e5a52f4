"""Decoding what clients send: every accepted format read upright and right, each refusal with its reason."""

import io

import numpy as np
import pytest
from PIL import Image

from bench.formats import png_header
from mnist_mlops.serving.decoding import DECODED_SIDE, MAX_PIXELS, DecodeError, decode

# Pillow's transposition that stores an upright picture so that EXIF orientation N brings it back upright.
STORED_AS = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
             4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90,
             7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}  # fmt: skip


def marked() -> np.ndarray:
    """A 60x40 (w x h) white picture with a black square in its top-left corner: which way is up is plain."""
    pixels = np.full((40, 60), 255, np.uint8)
    pixels[2:14, 2:14] = 0
    return pixels


def saved(image: Image.Image, image_format: str, **options) -> bytes:
    """An image's encoded bytes."""
    stream = io.BytesIO()
    image.save(stream, format=image_format, **options)
    return stream.getvalue()


def dark_top_left(gray: np.ndarray) -> bool:
    """Whether a decoded marked() picture is upright: 40 tall, 60 wide, dark in its top-left corner only."""
    return gray.shape == (40, 60) and gray[4:12, 4:12].mean() < 0.2 and gray[28:36, 48:56].mean() > 0.8


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(orientation):
    upright = Image.fromarray(marked())
    stored = upright if STORED_AS[orientation] is None else upright.transpose(STORED_AS[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    assert dark_top_left(decode(saved(stored, "JPEG", quality=95, exif=exif)).gray)


DEPTHS = ("L", "I;16", "P", "RGB")  # 8-bit grey, 16-bit grey, palette, colour
FORMATS = {"PNG": DEPTHS, "TIFF": DEPTHS, "BMP": ("L", "P", "RGB"), "WEBP": ("L", "RGB"), "GIF": ("L", "P")}


def in_mode(mode: str) -> Image.Image:
    """marked() in a Pillow mode."""
    if mode == "I;16":
        return Image.fromarray(marked().astype(np.uint16) * 257)
    return Image.fromarray(marked()).convert(mode)


@pytest.mark.parametrize(
    ("image_format", "mode"), [(image_format, mode) for image_format, modes in FORMATS.items() for mode in modes]
)
def test_every_accepted_format_and_depth_is_read(image_format, mode):
    options = {"lossless": True} if image_format == "WEBP" else {}
    assert dark_top_left(decode(saved(in_mode(mode), image_format, **options)).gray)


def test_a_16_bit_png_keeps_its_range():
    """A clear 7 in 16 bits is read at full contrast, not clipped to white by an 8-bit conversion."""
    gray = decode(saved(Image.fromarray(marked().astype(np.uint16) * 257), "PNG")).gray
    assert gray.min() == 0 and gray.max() == 1


def test_transparency_lies_on_white_and_cmyk_jpeg_is_read():
    black = np.zeros((40, 60, 4), np.uint8)
    black[..., 3] = 255 - marked()  # black ink only where the mark is; the rest transparent
    assert dark_top_left(decode(saved(Image.fromarray(black, "RGBA"), "PNG")).gray)
    cmyk = Image.fromarray(marked()).convert("CMYK")
    assert dark_top_left(decode(saved(cmyk, "JPEG", quality=95)).gray)


def test_a_gif_is_read_from_its_first_frame():
    first, second = Image.fromarray(marked()), Image.fromarray(255 - marked())
    assert dark_top_left(decode(saved(first, "GIF", save_all=True, append_images=[second])).gray)


def test_a_phone_frame_is_reduced_while_it_is_decoded():
    """A 3000x4000 JPEG comes out DECODED_SIDE on its short side, with the scale back to its pixels."""
    frame = Image.fromarray(np.full((4000, 3000), 200, np.uint8))
    picture = decode(saved(frame, "JPEG", quality=80))
    assert min(picture.gray.shape) == DECODED_SIDE and picture.gray.shape[0] > picture.gray.shape[1]
    assert picture.scale == pytest.approx(3000 / DECODED_SIDE, rel=0.01)


NOISE = np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8)  # a JPEG of many bytes


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "HEIC/HEIF is not accepted: convert it to JPEG or PNG"),
        (b"%PDF-1.7\n", "the bytes are not an image (PNG, JPEG, WebP, GIF, TIFF or BMP)"),
        (saved(Image.fromarray(NOISE), "JPEG")[:3000], "the JPEG file is truncated or corrupt"),
        (saved(Image.fromarray(marked()), "PNG")[:-30], "the PNG file is truncated or corrupt"),
        (png_header(8000, 8000), f"8000x8000 is more than the {MAX_PIXELS:,} pixels accepted"),
        (png_header(30000, 30000), f"900,000,000 pixels are more than the {MAX_PIXELS:,} accepted"),
        (saved(Image.fromarray(marked()), "ICO"), "ICO is not accepted: convert it to JPEG or PNG"),
    ],
    ids=["heic", "not an image", "truncated jpeg", "truncated png", "too many pixels", "decompression bomb", "ico"],
)
def test_refusals_say_what_to_do(data, reason):
    with pytest.raises(DecodeError, match="^" + reason.replace("(", r"\(").replace(")", r"\)")):
        decode(data)
