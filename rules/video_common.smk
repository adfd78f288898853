# What the video rules share: which source the clips come from, whether a tokenizer is trained,
# and the optional inputs that follow from it.
VIDEO = C["data"]["video"]
FROM_FRAMES = VIDEO["source"] != "wan"
TRAIN_TOKENIZER = FROM_FRAMES and not C["tokenize"]["pretrained_path"]


def tokenizer_input():
    """The trained tokenizer as an input, or nothing when a pretrained one or Wan latents."""
    return {"tokenizer": f"{R}/models/tokenizer.safetensors"} if TRAIN_TOKENIZER else {}


def raw_input():
    return {"raw": f"{R}/data/raw.safetensors"} if FROM_FRAMES else {}


def decoder_inputs():
    """What decoding test clips back to frames needs: raw frames and the trained tokenizer."""
    return {**raw_input(), **tokenizer_input()}
