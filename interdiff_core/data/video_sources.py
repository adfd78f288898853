"""Where video clips come from: the embedded generator, the user's video files, Wan2.1 shards.

- embedded: short RGB clips cut from the photographs scikit-image ships inside its package
  (no download): camera pans, zooms, small rotations, and sprites moving over a still photo,
  each with a text description of its motion. Seeded: same seed, same clips. Each split draws
  from its own photographs and sprite colours (EMBEDDED_SOURCES): test clips show nothing
  the models saw in training.
- files: mp4/avi/mkv decoded with PyAV, resampled to `fps`, centre-cropped square and resized.
  A clip's prompt is the text of `<video stem>.txt` beside the file, else the stem.
- wan: the Wan2.1 synthetic webdataset shards (`KEY.latent.pth` stored [C,T,H,W],
  `KEY.embed.pth` [L,D], `KEY.prompt.txt`), read directly: already latents, no tokenizer.

Every clip carries a source (its photograph and sprite colour, its file, its Wan prompt), and
splits are drawn by source (`split_by_source`), never by clip: neighbouring clips of one video
or repeats of one prompt cannot land on both sides of the train/test line.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import tarfile
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger(__name__)

# skimage.data loaders whose image files ship inside the package (checked: no pooch fetch)
PHOTOS = [
    "astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
    "camera", "coins", "moon", "horse",
]  # fmt: skip
MOTIONS = ["pan", "zoom", "rotate", "sprite"]
SPLITS = ("train", "val", "test")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv")
MIN_FRAME_STD = 4.0  # grey levels: an embedded frame below it shows nothing
COLORS = {"red": (1.0, 0.1, 0.1), "green": (0.1, 0.9, 0.2), "blue": (0.1, 0.3, 1.0),
          "yellow": (1.0, 0.9, 0.1), "white": (1.0, 1.0, 1.0)}  # fmt: skip
# which photographs and sprite colours each split of the embedded source may use (disjoint).
# Val's photographs match test's texture (mean gradient 0.066 / 0.054 against test's 0.064 /
# 0.055 at 128 px; bench/RESULTS_video.md): val once held the two smoothest (moon 0.017, rocket
# 0.023), where every model and baseline scored 5-10 dB higher than on test and the signs of
# model-minus-baseline differences disagreed with test's
EMBEDDED_SOURCES = {
    "train": {"photos": ["astronaut", "rocket", "immunohistochemistry", "hubble_deep_field",
                         "coins", "moon"], "colors": ["red", "green", "blue"]},
    "val": {"photos": ["chelsea", "horse"], "colors": ["yellow"]},
    "test": {"photos": ["coffee", "camera"], "colors": ["white"]},
}  # fmt: skip


@functools.cache
def load_photo(name: str, side: int) -> np.ndarray:
    """A bundled scikit-image photograph as float RGB [side, side, 3] in [0, 1] (centre crop)."""
    from skimage import data, transform
    from skimage.color import gray2rgb
    from skimage.util import img_as_float32

    if name not in PHOTOS:
        raise ValueError(f"unknown embedded photo {name!r} (have {PHOTOS})")
    img = img_as_float32(getattr(data, name)())
    img = gray2rgb(img) if img.ndim == 2 else img[..., :3]
    h, w = img.shape[:2]
    s = min(h, w)
    img = img[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    return transform.resize(img, (side, side), anti_aliasing=True).astype(np.float32)


def _view(photo: np.ndarray, size: int, center, scale: float, angle: float) -> np.ndarray:
    """The [size, size] view of `photo` centred at `center` (row, col), `scale` photo pixels
    per output pixel, rotated by `angle` radians (bilinear, edges clamped)."""
    from scipy.ndimage import map_coordinates

    r = np.arange(size) - (size - 1) / 2
    rr, cc = np.meshgrid(r, r, indexing="ij")
    cos, sin = math.cos(angle), math.sin(angle)
    src_r = center[0] + scale * (cos * rr - sin * cc)
    src_c = center[1] + scale * (sin * rr + cos * cc)
    return np.stack(
        [
            map_coordinates(photo[..., ch], [src_r, src_c], order=1, mode="nearest")
            for ch in range(3)
        ],
        -1,
    )


def _speed_word(v: float, slow: float) -> str:
    return "slowly" if abs(v) < slow else "quickly"


def embedded_clip(
    rng: np.random.Generator,
    T: int,
    size: int,
    split: str = "train",
    motion_scale: float = 1.0,
    photo_side: int = 4,
) -> tuple[np.ndarray, str, str]:
    """One clip uint8 [T, size, size, 3] of `split`'s sources, its motion description and its
    source ("photo" or "photo+colour" for a sprite clip). `motion_scale` multiplies the pan
    speed and the zoom and rotation rates; the photograph is `photo_side` frame sides wide
    (each frame shows 2 / photo_side of its width, so a larger side leaves fast pans room)."""
    if split not in EMBEDDED_SOURCES:
        raise ValueError(f"embedded split must be one of {SPLITS}, got {split!r}")
    photos, colors = EMBEDDED_SOURCES[split]["photos"], EMBEDDED_SOURCES[split]["colors"]
    name = photos[rng.integers(len(photos))]
    source = name
    side = photo_side * size
    photo = load_photo(name, side)
    motion = MOTIONS[rng.integers(len(MOTIONS))]
    t = np.arange(T)
    c0 = side / 2 + rng.uniform(-0.15, 0.15, 2) * side
    scale = np.full(T, 2.0)
    angle = np.zeros(T)
    center = np.repeat(c0[None], T, 0)
    subject = name.replace("_", " ")
    if motion == "pan":
        direction = rng.integers(4)
        speed = rng.uniform(0.5, 2.5) * motion_scale  # output pixels per frame
        step = np.array([[0, -1], [0, 1], [-1, 0], [1, 0]][direction]) * speed * 2.0
        center = c0 - step * (T - 1) / 2 + t[:, None] * step
        word = ["left", "right", "up", "down"][direction]
        text = (
            f"the camera pans {word} {_speed_word(speed, 1.5 * motion_scale)} across the "
            f"{subject} photograph"
        )
    elif motion == "zoom":
        inward = bool(rng.integers(2))
        rate = rng.uniform(0.02, 0.05) * motion_scale
        scale = 2.6 * np.exp((-1 if inward else 1) * rate * (t - (0 if inward else T - 1)))
        word = "in on" if inward else "out from"
        text = f"the camera zooms {word} the {subject} photograph"
    elif motion == "rotate":
        rate = rng.uniform(0.01, 0.04) * motion_scale * (1 if rng.integers(2) else -1)
        angle = rate * (t - (T - 1) / 2)
        word = "clockwise" if rate > 0 else "counterclockwise"
        text = (
            f"the camera rotates {word} {_speed_word(rate, 0.025 * motion_scale)} over the "
            f"{subject} photograph"
        )
    else:
        color = colors[rng.integers(len(colors))]
        source = f"{name}+{color}"
        radius = rng.uniform(0.1, 0.18) * size
        p0 = rng.uniform(radius, size - radius, 2)
        p1 = rng.uniform(radius, size - radius, 2)
        text = (
            f"a {color} disk moves {'down' if p1[0] > p0[0] else 'up'} and "
            f"{'right' if p1[1] > p0[1] else 'left'} over the {subject} photograph"
        )
    frames = np.stack([_view(photo, size, center[i], scale[i], angle[i]) for i in range(T)])
    if motion == "sprite":
        rr, cc = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
        for i in range(T):
            p = p0 + (p1 - p0) * i / max(T - 1, 1)
            inside = (rr - p[0]) ** 2 + (cc - p[1]) ** 2 <= radius**2
            frames[i][inside] = COLORS[color]
    return (np.clip(frames, 0, 1) * 255).round().astype(np.uint8), text, source


def embedded_clips(
    n: int,
    T: int,
    size: int,
    seed: int,
    split: str = "train",
    motion_scale: float = 1.0,
    photo_side: int = 4,
) -> tuple[np.ndarray, list[str], list[str]]:
    """n clips of `split`'s photographs and sprite colours: (clips, texts, sources). A clip
    with a blank frame (a zoom into the black of the horse silhouette: every method is exact
    there and a PSNR of 80 dB outweighs the rest of the split) is drawn again."""
    rng = np.random.default_rng(seed)
    drawn, tries = [], 0
    while len(drawn) < n:
        if tries >= 20 * n + 20:
            raise ValueError(
                f"embedded {split} clips: {tries} draws gave {len(drawn)} of {n} clips without a "
                f"blank frame (every frame's pixel std >= {MIN_FRAME_STD} grey levels); raise "
                f"data.video.frame_size or lower data.video.photo_side ({photo_side})"
            )
        tries += 1
        clip = embedded_clip(rng, T, size, split, motion_scale, photo_side)
        if clip[0].reshape(T, -1, 3).std(axis=1).min() >= MIN_FRAME_STD:
            drawn.append(clip)
    clips, texts, sources = zip(*drawn)
    return np.stack(clips), list(texts), list(sources)


def split_by_source(
    sources: list[str], counts: dict[str, int], seed: int, what: str
) -> dict[str, list[int]]:
    """Clip indices per split, whole sources at a time: the distinct sources in a seeded order
    go to test until it holds counts["test"] clips, then to val likewise, the rest to train.
    Test and val are cut to their counts (the clips cut are dropped, never moved to train).
    `what` names the config field in errors."""
    names = sorted(set(sources))
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    by_source = {s: [i for i, x in enumerate(sources) if x == s] for s in names}
    picks: dict[str, list[int]] = {}
    for split in ("test", "val"):
        picks[split] = []
        while order and len(picks[split]) < counts[split]:
            picks[split] += by_source[order.pop(0)]
        picks[split] = sorted(picks[split])[: counts[split]]
    picks["train"] = sorted(i for s in order for i in by_source[s])
    empty = [s for s in SPLITS if not picks[s] and (s == "train" or counts[s] > 0)]
    if empty:
        raise ValueError(
            f"{what}: {len(sources)} clips from {len(names)} sources cannot fill the splits "
            f"{empty} with whole sources (data.n_val = {counts['val']}, data.n_test = "
            f"{counts['test']}; every source goes to one split only): add sources or lower them"
        )
    return {s: picks[s] for s in SPLITS}


def _square_resize(frame: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    h, w = frame.shape[:2]
    s = min(h, w)
    crop = frame[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    return np.asarray(Image.fromarray(crop).resize((size, size), Image.BILINEAR))


def read_video(path, fps: float, size: int) -> np.ndarray:
    """Decode a video file to uint8 [F, size, size, 3] sampled at `fps` (nearest earlier frame)."""
    import av

    path = Path(path)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise ValueError(f"{path}: not a video file (expected one of {VIDEO_SUFFIXES})")
    frames: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            next_t = 0.0
            for frame in container.decode(stream):
                t = float(frame.pts * stream.time_base) if frame.pts is not None else next_t
                if t + 1e-6 < next_t:
                    continue
                frames.append(_square_resize(frame.to_ndarray(format="rgb24"), size))
                next_t += 1.0 / fps
    except (av.error.FFmpegError, IndexError) as e:
        raise ValueError(f"{path}: cannot decode video ({type(e).__name__}: {e})") from e
    if not frames:
        raise ValueError(f"{path}: no video frames decoded")
    return np.stack(frames)


def write_video(path, frames: np.ndarray, fps: int) -> None:
    """Encode uint8 [F, H, W, 3] (H, W even) as H.264 (mp4/mkv) or MPEG-4 (avi)."""
    import av

    codec = "mpeg4" if str(path).endswith(".avi") else "libx264"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "10"}
        for f in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        container.mux(stream.encode())


def file_clips(
    paths: list[str], T: int, fps: float, size: int
) -> tuple[np.ndarray, list[str], list[str]]:
    """Non-overlapping T-frame clips from each file (sorted paths), with their prompts and
    their source (the file's path)."""
    clips, texts, sources = [], [], []
    for p in sorted(Path(p) for p in paths):
        if not p.is_file():
            raise FileNotFoundError(f"data.video.files: {p} does not exist")
        frames = read_video(p, fps, size)
        side = p.with_suffix(".txt")
        text = side.read_text().strip() if side.is_file() else p.stem.replace("_", " ")
        n = len(frames) // T
        if n == 0:
            log.warning(
                "%s: %d frames at %g fps, fewer than one clip of %d", p, len(frames), fps, T
            )
        clips += [frames[i * T : (i + 1) * T] for i in range(n)]
        texts += [text] * n
        sources += [str(p)] * n
    if not clips:
        raise ValueError(f"data.video.files: no clip of {T} frames in {len(paths)} file(s)")
    return np.stack(clips), texts, sources


WAN_MEMBERS = ("latent.pth", "embed.pth", "prompt.txt")


def _wan_member(tar: tarfile.TarFile, info: tarfile.TarInfo, where: str):
    data = tar.extractfile(info).read()
    if info.name.endswith(".txt"):
        return data.decode("utf-8").strip()
    t = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"{where}: expected a tensor, got {type(t).__name__}")
    return t.clone()  # a saved view would carry its whole storage along


def read_wan_shards(shard_dir) -> list[dict]:
    """Every sample of the sorted `*.tar` shards: {key, latent [T,C,H,W], embed [L,D], prompt}.

    Members are joined by key (the name up to the first dot); a key missing a member, a latent
    that is not 4-D or an embedding that is not 2-D stops with the shard and key named.
    """
    paths = sorted(Path(shard_dir).glob("*.tar"))
    if not paths:
        raise FileNotFoundError(f"data.video.wan_dir: no *.tar shards in {shard_dir}")
    samples = []
    for path in paths:
        groups: dict[str, dict] = {}
        try:
            with tarfile.open(path) as tar:
                for info in tar.getmembers():
                    if not info.isfile():
                        continue
                    base = info.name.rsplit("/", 1)[-1]
                    key, _, member = base.partition(".")
                    if member in WAN_MEMBERS:
                        where = f"{path} key {key} member {member}"
                        groups.setdefault(key, {})[member] = _wan_member(tar, info, where)
        except (tarfile.TarError, EOFError, RuntimeError) as e:
            raise ValueError(f"{path}: corrupted or truncated shard ({e})") from e
        for key in sorted(groups):
            g = groups[key]
            missing = [m for m in WAN_MEMBERS if m not in g]
            if missing:
                raise ValueError(f"{path} key {key}: missing {missing} (has {sorted(g)})")
            latent, embed = g["latent.pth"], g["embed.pth"]
            if latent.dim() != 4 or embed.dim() != 2:
                raise ValueError(
                    f"{path} key {key}: latent {tuple(latent.shape)} must be [C,T,H,W] and "
                    f"embed {tuple(embed.shape)} [L,D]"
                )
            samples.append(
                {
                    "key": key,
                    "latent": latent.permute(1, 0, 2, 3).contiguous().float(),  # -> [T,C,H,W]
                    "embed": embed.float(),
                    "prompt": g["prompt.txt"],
                }
            )
    return samples
