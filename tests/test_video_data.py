"""Video data: Wan2.1 shard reader, PyAV round trip, embedded clips, prompt embeddings,
the frame tokenizer, and the video split's conditioning."""

import io
import tarfile

import numpy as np
import pytest
import torch

from interdiff_core.data.text import embed_prompt
from interdiff_core.data.video_dataset import VideoSplit
from interdiff_core.data.video_sources import (
    embedded_clips,
    file_clips,
    read_video,
    read_wan_shards,
    write_video,
)
from interdiff_core.metrics.video import psnr
from interdiff_core.models.tokenizer import FrameAutoencoder, decode_clips, encode_clips


def _member(tar, name, payload: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def _tensor_bytes(t):
    buf = io.BytesIO()
    torch.save(t, buf)
    return buf.getvalue()


def _write_wan_shard(path, samples, drop=()):
    """samples: {key: (latent [C,T,H,W], embed, prompt)}; members interleaved by kind, so a
    reader must join them by key, not by position."""
    with tarfile.open(path, "w") as tar:
        for kind in ("prompt.txt", "latent.pth", "embed.pth"):
            for key, (latent, embed, prompt) in reversed(list(samples.items())):
                if (key, kind) in drop:
                    continue
                if kind == "prompt.txt":
                    payload = prompt.encode()
                else:
                    payload = _tensor_bytes(latent if kind == "latent.pth" else embed)
                _member(tar, f"{key}.{kind}", payload)


def _wan_sample(seed, C=4, T=5, H=3, W=2, L=6, D=8):
    g = torch.Generator().manual_seed(seed)
    big = torch.randn(2 * C, T, H, W, generator=g)
    latent = big[:C]  # a view: saved whole by torch.save unless the reader clones
    return latent, torch.randn(L, D, generator=g), f"prompt {seed}"


def test_wan_reader_transposes_sorts_shards_and_joins_keys(tmp_path):
    a = {"000010": _wan_sample(10), "000011": _wan_sample(11)}
    b = {"000000": _wan_sample(0), "000001": _wan_sample(1)}
    _write_wan_shard(tmp_path / "shard-000001.tar", a)  # written first, sorts last
    _write_wan_shard(tmp_path / "shard-000000.tar", b)
    out = read_wan_shards(tmp_path)
    assert [s["key"] for s in out] == ["000000", "000001", "000010", "000011"]
    for s in out:
        latent, embed, prompt = {**a, **b}[s["key"]]
        assert s["latent"].shape == (5, 4, 3, 2)  # [C,T,H,W] -> [T,C,H,W]
        assert torch.equal(s["latent"], latent.permute(1, 0, 2, 3))
        assert torch.equal(s["latent"][2], latent[:, 2])
        assert torch.equal(s["embed"], embed) and s["prompt"] == prompt
        assert s["latent"].untyped_storage().nbytes() == s["latent"].numel() * 4


def test_wan_reader_names_the_key_missing_a_member(tmp_path):
    _write_wan_shard(
        tmp_path / "shard-000000.tar",
        {"000000": _wan_sample(0), "000001": _wan_sample(1)},
        drop={("000001", "embed.pth")},
    )
    with pytest.raises(ValueError, match=r"shard-000000.tar key 000001: missing \['embed.pth'\]"):
        read_wan_shards(tmp_path)


def test_wan_reader_rejects_a_latent_that_is_not_4d(tmp_path):
    latent, embed, prompt = _wan_sample(0)
    _write_wan_shard(tmp_path / "s.tar", {"k": (latent[0], embed, prompt)})
    with pytest.raises(ValueError, match=r"key k: latent \(5, 3, 2\) must be \[C,T,H,W\]"):
        read_wan_shards(tmp_path)


def _moving_frames(n=16, size=32):
    r = np.arange(size)
    rr, cc = np.meshgrid(r, r, indexing="ij")
    frames = []
    for i in range(n):
        base = 0.5 + 0.4 * np.sin((cc + 2 * i) / 5.0)[..., None] * np.array([1.0, 0.6, 0.2])
        frames.append(np.broadcast_to(base, (size, size, 3)) * (0.7 + 0.3 * rr[..., None] / size))
    return (np.stack(frames) * 255).round().astype(np.uint8)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_video_file_round_trip_through_pyav(tmp_path, suffix):
    frames = _moving_frames()
    path = tmp_path / f"clip{suffix}"
    write_video(path, frames, fps=8)
    back = read_video(path, fps=8, size=32)
    assert back.shape == frames.shape and back.dtype == np.uint8
    score = psnr(torch.from_numpy(back).float() / 255, torch.from_numpy(frames).float() / 255)
    assert score.min() > 30, score
    assert read_video(path, fps=4, size=16).shape == (8, 16, 16, 3)  # resampled and resized


def test_file_clips_cut_clips_and_read_sidecar_prompts(tmp_path):
    write_video(tmp_path / "b_walk.mp4", _moving_frames(20), fps=8)
    write_video(tmp_path / "a.mp4", _moving_frames(9), fps=8)
    (tmp_path / "a.txt").write_text("a slow pan\n")
    paths = [str(tmp_path / "b_walk.mp4"), str(tmp_path / "a.mp4")]
    clips, texts, sources = file_clips(paths, 8, 8, 16)
    assert clips.shape == (3, 8, 16, 16, 3)
    assert texts == ["a slow pan", "b walk", "b walk"]  # sorted files, two clips from b
    assert sources == [paths[1], paths[0], paths[0]]
    with pytest.raises(FileNotFoundError, match="data.video.files: .*missing.mp4"):
        file_clips([str(tmp_path / "missing.mp4")], 8, 8, 16)


def test_embedded_clips_are_seeded_and_described():
    a, ta, _ = embedded_clips(4, 6, 16, seed=3)
    b, tb, _ = embedded_clips(4, 6, 16, seed=3)
    c, _, _ = embedded_clips(4, 6, 16, seed=4)
    assert a.shape == (4, 6, 16, 16, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b) and ta == tb and not np.array_equal(a, c)
    assert all("photograph" in t for t in ta)
    assert all(np.abs(np.diff(clip.astype(int), axis=0)).sum() > 0 for clip in a)  # it moves


def test_embedded_motion_scale_speeds_the_camera_up():
    def frame_change(scale):  # the same draws (photo, motion, direction), faster camera
        clips, texts, _ = embedded_clips(24, 8, 16, seed=5, motion_scale=scale, photo_side=8)
        change = np.abs(np.diff(clips.astype(float), axis=1)).mean(axis=(1, 2, 3, 4))
        camera = np.array(["camera" in t for t in texts])
        return change[camera], texts

    slow, texts_slow = frame_change(1.0)
    fast, texts_fast = frame_change(3.0)
    assert len(slow) >= 12 and fast.mean() > 1.5 * slow.mean()
    # speed words are relative to the scale: the same draw keeps its word
    assert texts_slow == texts_fast


def test_prompt_embedding_is_deterministic_and_word_sensitive():
    e = embed_prompt("the camera pans left", 16, 8)
    assert e.shape == (8, 16) and np.array_equal(e, embed_prompt("The camera pans LEFT!", 16, 8))
    assert not np.allclose(e, embed_prompt("the camera pans right", 16, 8))
    assert np.all(e[4:] == 0)  # padding


def test_tokenizer_encode_decode_shapes_and_standardised_latents():
    torch.manual_seed(0)
    tok = FrameAutoencoder(latent_channels=4, downsample=4, width=8)
    clips = torch.rand(2, 3, 3, 16, 16)
    z = encode_clips(tok, clips)
    assert z.shape == (2, 3, 4, 4, 4)
    x = decode_clips(tok, z)
    assert x.shape == clips.shape and x.min() >= 0 and x.max() <= 1
    tok.fit_latent_stats(clips.flatten(0, 1))
    z = encode_clips(tok, clips)
    assert torch.allclose(z.mean((0, 1, 3, 4)), torch.zeros(4), atol=1e-4)
    assert torch.allclose(z.transpose(0, 2).flatten(1).std(1), torch.ones(4), atol=1e-3)
    with pytest.raises(ValueError, match="tokenize.downsample"):
        FrameAutoencoder(downsample=3)


def test_pretrained_autoencoder_from_a_local_folder(tmp_path):
    from diffusers import AutoencoderKL

    from interdiff_core.models.tokenizer import PretrainedAutoencoder

    torch.manual_seed(0)
    AutoencoderKL(
        block_out_channels=(8, 8),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4,
        norm_num_groups=4,
        layers_per_block=1,
    ).save_pretrained(tmp_path / "vae")
    tok = PretrainedAutoencoder(str(tmp_path / "vae"))
    z = encode_clips(tok, torch.rand(1, 2, 3, 16, 16))
    assert z.shape == (1, 2, 4, 8, 8)
    assert decode_clips(tok, z).shape == (1, 2, 3, 16, 16)
    with pytest.raises(FileNotFoundError, match="tokenize.pretrained_path"):
        PretrainedAutoencoder(str(tmp_path / "nothing"))


def test_video_conditioning_never_sees_the_last_frame():
    split = VideoSplit(torch.randn(3, 5, 2, 2, 2), torch.randn(3, 4, 6), ["a", "b", "c"])
    later = split.latent.clone()
    later[:, 1:] += 1.0
    assert torch.equal(VideoSplit(later, split.embed, split.prompts).cond, split.cond)
    assert split.cond.shape == (3, 4 * 6 + 8) and split.x.shape == (3, 5, 8)
    assert torch.equal(split.cond[:, :24].view(3, 4, 6), split.embed)  # the token sequence
    assert torch.equal(split.endpoints[:, 1], split.x[:, 0])  # the baseline holds frame 0


def test_wan_shards_become_video_splits(tmp_path):
    from interdiff_core.data.splits import load_split
    from interdiff_core.stages.tokenize_video import tokenize_wan

    wan = tmp_path / "wan"
    wan.mkdir()
    _write_wan_shard(wan / "shard-000000.tar", {f"{i:06d}": _wan_sample(i, T=6) for i in range(5)})
    out = {s: str(tmp_path / s) for s in ("train", "val", "test")}
    cfg = {"shard_size": 2, "text": {"dim": 8, "max_tokens": 4}}
    tokenize_wan(wan, out, cfg, {"horizon": 5, "n_val": 1, "n_test": 1}, seed=0)
    splits = {s: load_split(d) for s, d in out.items()}
    assert [len(splits[s]) for s in ("train", "val", "test")] == [3, 1, 1]
    train = splits["train"]
    assert train.domain == "video" and train.latent.shape == (3, 5, 4, 3, 2)
    assert train.embed.shape == (3, 4, 8)  # 6 tokens cut to max_tokens
    prompts = sorted(p for s in splits.values() for p in s.prompts)
    assert prompts == [f"prompt {i}" for i in range(5)]
    i = int(train.prompts[0].split()[1])
    assert torch.equal(train.latent[0], _wan_sample(i, T=6)[0].permute(1, 0, 2, 3)[:5])
    with pytest.raises(ValueError, match="fewer than data.horizon = 7"):
        tokenize_wan(wan, out, cfg, {"horizon": 7, "n_val": 1, "n_test": 1}, seed=0)


def test_wan_samples_split_by_prompt(tmp_path):
    from interdiff_core.data.splits import load_split
    from interdiff_core.stages.tokenize_video import tokenize_wan

    wan = tmp_path / "wan"
    wan.mkdir()
    samples = {f"{i:06d}": (*_wan_sample(i)[:2], f"prompt {i % 4}") for i in range(12)}
    _write_wan_shard(wan / "shard-000000.tar", samples)
    out = {s: str(tmp_path / s) for s in ("train", "val", "test")}
    cfg = {"shard_size": 4, "text": {"dim": 8, "max_tokens": 4}}
    tokenize_wan(wan, out, cfg, {"horizon": 5, "n_val": 2, "n_test": 3}, seed=0)
    prompts = {s: set(load_split(d).prompts) for s, d in out.items()}
    assert not (prompts["train"] & prompts["val"] or prompts["train"] & prompts["test"])
    assert not prompts["val"] & prompts["test"] and prompts["train"]


def _source_atoms(sources):
    """The photographs, sprite colours or files a split's clips come from."""
    return {atom for src in sources for atom in src.split("+")}


def test_prepare_video_from_files_splits_whole_files(tmp_path):
    from interdiff_core.io import load_tensors
    from interdiff_core.stages.prepare_video import prepare_video

    names = ("x.mp4", "y.avi", "z.mp4", "w.mkv")
    for name, n in zip(names, (24, 16, 12, 8)):
        write_video(tmp_path / name, _moving_frames(n, 16), fps=8)
    video = {"source": "files", "frame_size": 16, "fps": 8, "wan_dir": ""}
    video["files"] = [str(tmp_path / n) for n in names]
    cfg = {"horizon": 4, "n_train": 16, "n_val": 2, "n_test": 3, "video": video}
    prepare_video(cfg, 0, tmp_path / "raw.safetensors")
    t, meta = load_tensors(tmp_path / "raw.safetensors")
    counts = [t[f"{s}.frames"].shape[0] for s in ("train", "val", "test")]
    assert counts[1:] == [2, 3] and counts[0] >= 2 and t["train.frames"].shape[1:] == (4, 16, 16, 3)
    atoms = {s: _source_atoms(meta["sources"][s]) for s in ("train", "val", "test")}
    assert not (atoms["train"] & atoms["val"] or atoms["train"] & atoms["test"])
    assert not atoms["val"] & atoms["test"]
    cfg["n_val"] = 12  # val would need every file left after test: nothing for train
    with pytest.raises(ValueError, match="data.video.files: .*cannot fill the splits"):
        prepare_video(cfg, 0, tmp_path / "raw.safetensors")


def test_embedded_splits_share_no_photograph_or_sprite(tmp_path):
    from interdiff_core.data.video_sources import EMBEDDED_SOURCES
    from interdiff_core.io import load_tensors
    from interdiff_core.stages.prepare_video import prepare_video

    video = {"source": "embedded", "frame_size": 8, "fps": 8, "files": [], "wan_dir": ""}
    video.update(motion_scale=1.0, photo_side=4)
    cfg = {"horizon": 2, "n_train": 48, "n_val": 16, "n_test": 16, "video": video}
    prepare_video(cfg, 0, tmp_path / "raw.safetensors")
    _, meta = load_tensors(tmp_path / "raw.safetensors")
    atoms = {s: _source_atoms(meta["sources"][s]) for s in ("train", "val", "test")}
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        assert not atoms[a] & atoms[b], (a, b)
        allowed = {s: set(sum(EMBEDDED_SOURCES[s].values(), [])) for s in (a, b)}
        assert not allowed[a] & allowed[b]  # the design, not only this draw
    assert len(atoms["train"]) >= 4


def test_split_by_source_keeps_each_source_whole():
    from interdiff_core.data.video_sources import split_by_source

    sources = [f"s{i % 7}" for i in range(40)]
    picks = split_by_source(sources, {"train": 0, "val": 4, "test": 5}, 1, "data.video.files")
    assert [len(picks[s]) for s in ("val", "test")] == [4, 5]
    owner = {}
    for split, idx in picks.items():
        for i in idx:
            assert owner.setdefault(sources[i], split) == split, sources[i]
    with pytest.raises(ValueError, match="data.video.files: 40 clips from 7 sources"):
        split_by_source(sources, {"train": 0, "val": 30, "test": 5}, 1, "data.video.files")


def test_embedded_clips_redraw_a_clip_with_a_blank_frame(monkeypatch):
    from interdiff_core.data import video_sources

    def min_frame_std(clips):
        return clips.reshape(*clips.shape[:2], -1, 3).std(axis=2).min()

    # this draw zooms into the black of the horse silhouette: frames 7-15 are blank
    args = (32, 16, 32, 1, "val", 2.0, 8)
    assert min_frame_std(embedded_clips(*args)[0]) >= video_sources.MIN_FRAME_STD
    monkeypatch.setattr(video_sources, "MIN_FRAME_STD", 0.0)
    assert min_frame_std(embedded_clips(*args)[0]) < 1.0
    monkeypatch.setattr(video_sources, "MIN_FRAME_STD", 1e9)  # no clip passes: an error, no hang
    with pytest.raises(ValueError, match="embedded val clips: .*data.video.photo_side"):
        embedded_clips(2, 4, 8, 0, "val")
