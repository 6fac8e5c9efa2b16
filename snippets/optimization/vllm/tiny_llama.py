"""A tiny random Llama and a tokenizer trained on the spot, saved to a folder vLLM can load.

The other snippets of this page import `save_tiny_llama` and `prompts` from here (Python puts a
script's own folder on sys.path, so `python any/folder/x.py` finds this file).
"""
import os
import tempfile

import torch
from pydoc_data.topics import topics  # ~465K characters of Python's reference manual, offline
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (AutoConfig, AutoTokenizer, LlamaConfig, LlamaForCausalLM,
                          PreTrainedTokenizerFast)

TEXT = list(topics.values())


def save_tiny_llama(folder, hidden_size=128, num_heads=2, num_layers=2, vocab_size=512, seed=0,
                    max_position_embeddings=256):
    """Write config.json, model.safetensors and tokenizer files to `folder`; return the HF model.

    `max_position_embeddings` is also vLLM's `max_model_len`: prompt plus new tokens must fit in it.
    """
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<unk>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    bpe.train_from_iterator(TEXT[:60], trainer)
    # Like Llama's own tokenizer: every prompt starts with <s> (id 1).
    bpe.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>",
                                        unk_token="<unk>", pad_token="</s>")
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=hidden_size,
                         intermediate_size=2 * hidden_size,
                         num_hidden_layers=num_layers, num_attention_heads=num_heads,
                         num_key_value_heads=num_heads,
                         max_position_embeddings=max_position_embeddings,
                         bos_token_id=1, eos_token_id=2, pad_token_id=2)
    model = LlamaForCausalLM(config).eval()  # random weights: gibberish text, but exact tokens
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model


def prompts(n):
    """`n` prompts of different lengths (4 to 33 words) cut from the reference manual."""
    words = " ".join(TEXT).split()
    return [" ".join(words[500 + 7 * i: 504 + 7 * i + (5 * i) % 30]) for i in range(n)]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        save_tiny_llama(folder)
        print(sorted(os.listdir(folder)))
        config = AutoConfig.from_pretrained(folder)
        print("head_dim =", config.hidden_size // config.num_attention_heads)
        print(prompts(2))
        print("token ids of the first:",
              AutoTokenizer.from_pretrained(folder)(prompts(1)[0]).input_ids)
