"""Labels for a prompt/answer pair: tokens(prompt + answer) != tokens(prompt) + tokens(answer)."""
from pydoc_data.topics import topics
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import TokenizersBackend

bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train_from_iterator(list(topics.values())[:20], trainers.BpeTrainer(
    vocab_size=400, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
tok = TokenizersBackend(tokenizer_object=bpe)
prompt, answer = "Question: which statement loops?\nAnswer: ", "for"

# WRONG: tokenize the joined text, then mask as many tokens as the prompt has on its own.
# The prompt's trailing space and the answer merge into one token ("Ġfor"), so the mask
# swallows the whole answer: nothing is left to train on.
joined = tok(prompt + answer).input_ids
n_prompt = len(tok(prompt).input_ids)
labels = [-100] * n_prompt + joined[n_prompt:]
trained = [t for t in labels if t != -100]
print("joined:", tok.convert_ids_to_tokens(joined)[-3:], "| prompt alone ends with",
      tok.convert_ids_to_tokens(tok(prompt).input_ids)[-1:])
print("wrong: tokens trained on =", len(trained), repr(tok.decode(trained)))
assert trained == []

# RIGHT: tokenize the two parts separately and concatenate the ids, so the boundary is exact
# (and the same as at inference, when the model continues the tokenized prompt).
prompt_ids, answer_ids = tok(prompt).input_ids, tok(answer).input_ids
input_ids = prompt_ids + answer_ids
labels = [-100] * len(prompt_ids) + answer_ids
trained = [t for t in labels if t != -100]
print("right: tokens trained on =", len(trained), repr(tok.decode(trained)))
assert tok.decode(trained) == answer and len(input_ids) == len(labels)
