"""Print-ready HTML to PDF with headless Chromium (its own print engine: the CJK fonts,
the A4 landscape `@page` and the inline SVG charts come out as the browser shows them).

Chromium is found as $CHARGENET_CHROMIUM or `chromium`, `chromium-browser`,
`google-chrome` on the PATH (Debian: `apt-get install chromium fonts-noto-cjk`). Each
document is printed by a fresh process with a throw-away profile, from a file in a
temporary folder; nothing is fetched from the network (the report has no external
resources)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

PDF = "application/pdf"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class PdfUnavailable(RuntimeError):
    """No Chromium to print with, or it failed: the HTML and XLSX versions still work."""


def chromium() -> str | None:
    given = os.environ.get("CHARGENET_CHROMIUM")
    if given:
        return given if Path(given).exists() else shutil.which(given)
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


def html_to_pdf(document: str, timeout_s: float = 90.0) -> bytes:
    exe = chromium()
    if exe is None:
        raise PdfUnavailable(
            "PDF reports need Chromium (apt-get install chromium fonts-noto-cjk, or set "
            "CHARGENET_CHROMIUM); the Excel and print-ready HTML versions are available"
        )
    with tempfile.TemporaryDirectory(prefix="chargenet-pdf-") as folder:
        source = Path(folder) / "report.html"
        target = Path(folder) / "report.pdf"
        source.write_text(document, encoding="utf-8")
        command = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-extensions",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={Path(folder) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfUnavailable(f"Chromium could not print the report: {exc}") from exc
        if not target.is_file() or target.stat().st_size == 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise PdfUnavailable(f"Chromium printed nothing: {' / '.join(tail)}")
        return target.read_bytes()
