"""Every format people send, read through a server, and every refusal answered with its reason."""

import base64
import io
import struct
import zlib

import cv2
import numpy as np
import requests
from PIL import Image

REFUSALS = {  # what is sent -> the start of the reason the answer must give
    "heic": "HEIC/HEIF is not accepted: convert it to JPEG or PNG",
    "truncated_jpeg": "the JPEG file is truncated or corrupt",
    "too_many_pixels": "8000x8000 is more than the",
    "decompression_bomb": "900,000,000 pixels are more than the",
    "not_an_image": "the bytes are not an image",
}


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size: its header and a scrap of data (enough to open it, not to decode it)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + data + chunk(b"IEND", b"")


def saved(image: Image.Image, image_format: str, **options) -> bytes:
    """An image's encoded bytes."""
    stream = io.BytesIO()
    image.save(stream, format=image_format, **options)
    return stream.getvalue()


def encodings(digit: np.ndarray) -> dict[str, bytes]:
    """A 28x28 digit written dark on white paper, 200x200, in every accepted format and depth."""
    ink = np.clip(cv2.resize(digit, (140, 140), interpolation=cv2.INTER_CUBIC), 0, 1)
    paper = np.ones((200, 200), np.float32)
    paper[30:170, 30:170] -= 0.9 * ink
    grey = Image.fromarray(np.round(paper * 255).astype(np.uint8))
    alpha = np.zeros((200, 200, 4), np.uint8)
    alpha[..., 3] = np.round((1 - paper) / 0.9 * 255).astype(np.uint8)  # black ink on a transparent canvas
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned a quarter, as a phone held upright stores it
    return {
        "png_8bit": saved(grey, "PNG"),
        "png_16bit": saved(Image.fromarray(np.round(paper * 65535).astype(np.uint16)), "PNG"),
        "png_palette": saved(grey.convert("RGB").convert("P"), "PNG"),
        "png_alpha": saved(Image.fromarray(alpha, "RGBA"), "PNG"),
        "jpeg_exif_6": saved(grey.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=90, exif=exif),
        "jpeg_cmyk": saved(grey.convert("CMYK"), "JPEG", quality=90),
        "webp": saved(grey, "WEBP", quality=90),
        "gif": saved(grey, "GIF"),
        "tiff": saved(grey, "TIFF"),
        "bmp": saved(grey.convert("RGB"), "BMP"),
    }


def refused_pictures() -> dict[str, bytes]:
    """What is refused, by the names of REFUSALS."""
    noise = np.random.default_rng(0).integers(0, 256, (400, 400), dtype=np.uint8)
    return {
        "heic": b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + bytes(64),
        "truncated_jpeg": saved(Image.fromarray(noise), "JPEG")[:5000],
        "too_many_pixels": png_header(8000, 8000),
        "decompression_bomb": png_header(30000, 30000),
        "not_an_image": b"%PDF-1.7\n" + bytes(64),
    }


def format_outcomes(url: str, test) -> dict[str, dict[str, bool]]:
    """Per format, whether the server reads the digit right; per refusal, whether it answers 4xx with its reason."""

    def post(picture: bytes) -> requests.Response:
        return requests.post(url, json={"inputs": {"image": [base64.b64encode(picture).decode()]}}, timeout=120)

    read = {}
    for name, picture in encodings(test.images[0, ..., 0]).items():
        response = post(picture)
        read[name] = response.status_code == 200 and response.json()["predictions"][0]["digit"] == int(test.y[0])
    refused = {}
    for name, picture in refused_pictures().items():
        response = post(picture)
        refused[name] = 400 <= response.status_code < 500 and REFUSALS[name] in response.text
    return {"read": read, "refused": refused}
