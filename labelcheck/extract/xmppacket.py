"""XMP packet scanning (XMP spec part 3): find XMP packets in any file's bytes when the container parser cannot."""

from __future__ import annotations

from pathlib import Path

START = b"<x:xmpmeta"
END = b"</x:xmpmeta>"
CHUNK = 1 << 20
MAX_SCAN = 256 << 20  # bytes read at most
MAX_PACKET = 4 << 20


def find_packets(path: Path, max_scan: int = MAX_SCAN) -> list[bytes]:
    """Every complete `<x:xmpmeta>...</x:xmpmeta>` in the first `max_scan` bytes, read in bounded chunks."""
    packets: list[bytes] = []
    tail = b""
    read = 0
    with open(path, "rb") as fh:
        while read < max_scan:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            read += len(chunk)
            buf = tail + chunk
            pos = 0
            while True:
                start = buf.find(START, pos)
                if start < 0:
                    tail = buf[-(len(START) - 1) :]
                    break
                end = buf.find(END, start)
                if end < 0:
                    tail = buf[start:] if len(buf) - start < MAX_PACKET else b""
                    break
                packets.append(buf[start : end + len(END)])
                pos = end + len(END)
    return packets
