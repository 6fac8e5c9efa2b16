"""A tiny Llama, its tokenizer and text, all made on the spot
(the snippets of the GPTQ page import it).

Nothing is downloaded: the text is Python's reference manual, which ships with Python
(`pydoc_data.topics`), the tokenizer is a byte-level BPE trained on it, and the model is a
2-layer Llama with random weights built from a config.
"""
import torch
from pydoc_data.topics import topics
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

DOCS = list(topics.values())  # ~200 sections, ~465K characters
TRAIN_DOCS, HELDOUT_DOCS = DOCS[:-20], DOCS[-20:]  # the last 20 sections are never calibrated on


def make_tokenizer(vocab_size=512):
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<s>", "</s>"],
                                  show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(TRAIN_DOCS, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>")


def make_model(vocab_size=512, hidden_size=64, seed=0):
    torch.manual_seed(seed)
    # Every quantized in/out size is a multiple of 32: GPTQ packs 32-bit words and the groups
    # below have 32 columns. k_proj/v_proj output 2 heads x 16 = 32 features.
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=hidden_size,
                         intermediate_size=2 * hidden_size, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2,
                         bos_token_id=0, eos_token_id=1)
    return LlamaForCausalLM(config)


def calibration_texts(n=16, chars=600):
    """The calibration set GPTQConfig wants: a list of strings (the start of n sections)."""
    return [doc[:chars] for doc in TRAIN_DOCS[:n]]
