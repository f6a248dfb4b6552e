"""The base map setting: its host is what the pages' Content-Security-Policy admits for
images, and a malformed tile URL stops the start with the reason."""

from __future__ import annotations

import pytest

from chargenet.adapters.api.pages import content_security_policy, tile_source
from chargenet.bootstrap import Platform
from chargenet.entrypoints.web import create_app


def _img_src(policy: str) -> str:
    return dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())["img-src"]


def test_without_tiles_images_come_from_this_origin_only() -> None:
    assert _img_src(content_security_policy()) == "'self' data: blob:"


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("http://10.0.0.5:8081/osm/{z}/{x}/{y}.png?key=1", "http://10.0.0.5:8081"),
    ],
)
def test_the_tile_host_is_the_one_image_source_added(url: str, source: str) -> None:
    assert tile_source(url) == source
    assert _img_src(content_security_policy(url)) == f"'self' data: blob: {source}"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://tiles.example.org/{z}/{x}/{y}.png",
        "https://tiles.example.org/tile.png",  # no {z}/{x}/{y}
        "https://tiles.example.org; script-src *; /{z}/{x}/{y}",  # smuggling a directive
        "//tiles.example.org/{z}/{x}/{y}.png",
    ],
)
def test_a_malformed_tile_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="map tile URL"):
        tile_source(url)


def test_a_malformed_tile_url_stops_the_app_from_starting(platform: Platform) -> None:
    from dataclasses import replace

    platform.settings = replace(platform.settings, map_tile_url="https://x.org/tile.png")
    with pytest.raises(ValueError, match="map tile URL"):
        create_app(platform)
