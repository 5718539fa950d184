"""Read QR codes back with a real reader (zxing-cpp), as a phone would: a test must not
compare the encoder's output with itself."""

from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image, ImageDraw


def decode_image(image: Image.Image) -> list[str]:
    """The texts of every QR code a reader finds in ``image``."""
    return [b.text for b in zxingcpp.read_barcodes(image.convert("L")) if b.format == zxingcpp.BarcodeFormat.QRCode]


def decode_png(data: bytes) -> list[str]:
    return decode_image(Image.open(io.BytesIO(data)))


def decode_svg(svg: str, scale: int = 8) -> list[str]:
    """Draw an inline QR <svg> (one stroked path of M/m/h moves, as segno writes it) and read it.

    Only the commands this app's QR paths use are drawn; anything else fails loudly."""
    view = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    path = re.search(r'<path[^>]*?(?:transform="scale\(([\d.]+)\)")?[^>]* d="([^"]+)"', svg)
    assert view and path, "no QR path in the svg"
    unit = float(path.group(1) or 1)
    width, height = (round(float(v) / unit * scale) for v in view.groups())
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    x = y = 0.0
    for cmd, args in re.findall(r"([MmHhVvLlZz])([^MmHhVvLlZz]*)", path.group(2)):
        nums = [float(n) for n in re.findall(r"-?[\d.]+", args)]
        if cmd in "Mm":
            x, y = (nums[0], nums[1]) if cmd == "M" else (x + nums[0], y + nums[1])
        elif cmd in "Hh":
            nx = nums[0] if cmd == "H" else x + nums[0]
            # a stroke one module wide, centred on y
            draw.rectangle([min(x, nx) * scale, (y - 0.5) * scale, max(x, nx) * scale - 1, (y + 0.5) * scale - 1], fill=0)
            x = nx
        else:
            raise AssertionError(f"unexpected path command {cmd!r} in the QR svg")
    return decode_image(image)
