"""Static int8 needs activation ranges from calibration; ORTQuantizer stops if there are none."""
import os
import tempfile

import torch
from onnxruntime.quantization import CalibrationMethod
from optimum.onnxruntime import ORTModelForSequenceClassification, ORTQuantizer
from optimum.onnxruntime.configuration import AutoQuantizationConfig, CalibrationConfig
from transformers import BertConfig, BertForSequenceClassification

torch.manual_seed(0)
config = BertConfig(vocab_size=256, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                    num_attention_heads=2, max_position_embeddings=64)
qconfig = AutoQuantizationConfig.avx512_vnni(is_static=True, per_channel=False)

with tempfile.TemporaryDirectory() as tmp:
    BertForSequenceClassification(config).save_pretrained(os.path.join(tmp, "pt"))
    onnx_dir = os.path.join(tmp, "onnx")
    ORTModelForSequenceClassification.from_pretrained(os.path.join(tmp, "pt"),
                                                      export=True).save_pretrained(onnx_dir)
    quantizer = ORTQuantizer.from_pretrained(onnx_dir)

    # WRONG: a static config straight into quantize(), as for dynamic quantization
    try:
        quantizer.quantize(quantization_config=qconfig, save_dir=os.path.join(tmp, "wrong"))
        raise AssertionError("expected a ValueError")
    except ValueError as err:
        assert "no calibration ranges were provided" in str(err)
        reason = str(err).split(", but ")[1].split(".")[0]  # the message's key clause
        print("quantize() without ranges -> ValueError: ...", reason)

    # RIGHT: run the float model on representative inputs first (fit), then quantize with ranges
    # (AutoCalibrationConfig.minmax(dataset) fills the same config from a datasets.Dataset;
    # fit() only iterates over the samples, so a list of feature dicts is enough here)
    ids = torch.randint(0, 256, (16, 12))
    samples = [{"input_ids": row.tolist(), "attention_mask": [1] * 12, "token_type_ids": [0] * 12}
               for row in ids]
    calibration_config = CalibrationConfig(
        dataset_name="random ids", dataset_config_name="", dataset_split="",
        dataset_num_samples=len(samples), method=CalibrationMethod.MinMax)
    ranges = quantizer.fit(dataset=samples, calibration_config=calibration_config,
                           operators_to_quantize=qconfig.operators_to_quantize, batch_size=8,
                           # fit() writes an instrumented copy, by default into the current folder
                           onnx_augmented_model_name=os.path.join(tmp, "augmented_model.onnx"))
    quantizer.quantize(quantization_config=qconfig, save_dir=os.path.join(tmp, "int8"),
                       calibration_tensors_range=ranges)
    print(f"fit() measured ranges for {len(ranges.data)} tensors; quantize() wrote",
          sorted(f for f in os.listdir(os.path.join(tmp, "int8")) if f.endswith(".onnx")))
