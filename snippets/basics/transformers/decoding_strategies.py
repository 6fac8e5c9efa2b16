"""Top-p, min-p and repetition penalty as logits processors; beam search and a streamer."""
from threading import Thread

from pydoc_data.topics import topics
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (LlamaConfig, LlamaForCausalLM, MinPLogitsWarper,
                          PreTrainedTokenizerFast, RepetitionPenaltyLogitsProcessor,
                          TextIteratorStreamer, TopPLogitsWarper)

# 1. What each filter keeps. generate() builds these same processors from its keyword arguments.
peaked = torch.tensor([[0.70, 0.10, 0.08, 0.06, 0.04, 0.02]]).log()
flat = torch.tensor([[0.20, 0.19, 0.18, 0.16, 0.14, 0.13]]).log()
for name, warper in [("top_p=0.9", TopPLogitsWarper(0.9)), ("min_p=0.1", MinPLogitsWarper(0.1))]:
    kept = [int(warper(None, s.clone()).isfinite().sum()) for s in (peaked, flat)]
    print(f"{name}: keeps {kept[0]} of 6 when peaked, {kept[1]} of 6 when flat")
# top-p keeps the smallest set whose probability reaches p; min-p keeps every token with at
# least min_p x the top probability, so it cuts harder exactly when the model is confident.

# Repetition penalty divides a positive logit of every token already in the sequence by the
# penalty (multiplies a negative one), whatever the token's position or count.
logits = torch.tensor([[2.0, -1.0, 0.5]])
seen = torch.tensor([[0, 1]])  # tokens 0 and 1 appeared before
print("repetition_penalty=2:", RepetitionPenaltyLogitsProcessor(2.0)(seen, logits.clone()).tolist())

# 2. The same knobs on a tiny random model.
bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train_from_iterator(topics.values(), trainers.BpeTrainer(
    vocab_size=512, special_tokens=["<pad>", "<s>", "</s>"], show_progress=False,
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
tok = PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<pad>", eos_token="</s>")
torch.manual_seed(0)
model = LlamaForCausalLM(LlamaConfig(
    vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, pad_token_id=tok.pad_token_id,
    eos_token_id=None)).eval()  # no EOS: every run makes exactly max_new_tokens
enc = tok("The for statement is used to", return_tensors="pt")
n = enc.input_ids.shape[1]


def logprob(seq):
    """Total log-probability (nats) the model gives the tokens after the prompt; seq: (1, T)."""
    with torch.no_grad():
        lp = model(seq).logits[0, :-1].log_softmax(-1)
    return lp[torch.arange(n - 1, seq.shape[1] - 1), seq[0, n:]].sum().item()


greedy = model.generate(**enc, max_new_tokens=24, do_sample=False)
penalised = model.generate(**enc, max_new_tokens=24, do_sample=False, repetition_penalty=1.5)
beams = model.generate(**enc, max_new_tokens=24, do_sample=False, num_beams=4)
print("distinct new tokens: greedy", len(set(greedy[0, n:].tolist())),
      "| repetition_penalty=1.5", len(set(penalised[0, n:].tolist())))
print("beam search log-prob >= greedy's:", logprob(beams) >= logprob(greedy))
assert len(set(penalised[0, n:].tolist())) > len(set(greedy[0, n:].tolist()))
assert logprob(beams) >= logprob(greedy)

# 3. A streamer receives text as it is generated. generate() blocks, so it runs in a thread
#    while this one reads the pieces (TextStreamer would print them to stdout instead).
streamer = TextIteratorStreamer(tok, skip_prompt=True)
thread = Thread(target=model.generate, kwargs=dict(**enc, max_new_tokens=24, do_sample=False,
                                                   streamer=streamer))
thread.start()
pieces = list(streamer)  # iterating blocks until generation ends
thread.join()
assert "".join(pieces) == tok.decode(greedy[0, n:])  # the same text, delivered in pieces
print(f"streamed {len(pieces)} pieces that join to the greedy text")
