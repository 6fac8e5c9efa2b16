"""LoRA on a classifier without task_type="SEQ_CLS": the new head is neither trained nor saved,
so the reloaded model predicts differently (huggingface/peft#310, #876)."""
import tempfile

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import LlamaConfig, LlamaForSequenceClassification

cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, num_labels=3, pad_token_id=0)
x = torch.randint(1, 128, (4, 10))


def fresh_base(seed):
    """A pretrained body plus a classification head `score` that is new at every load."""
    torch.manual_seed(0)
    model = LlamaForSequenceClassification(cfg)
    torch.manual_seed(seed)
    torch.nn.init.normal_(model.score.weight, std=0.2)  # from_pretrained would init it randomly
    return model


def train_save_reload(**task):
    """Wrap, train 5 steps, save the adapter, reload it on a new base; return both outputs."""
    model = get_peft_model(fresh_base(1), LoraConfig(r=8, target_modules=["q_proj", "v_proj"],
                                                     **task))
    head_trainable = any(p.requires_grad for n, p in model.named_parameters() if "score" in n)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(5):
        model(input_ids=x, labels=torch.tensor([0, 1, 2, 0])).loss.backward()
        opt.step()
        opt.zero_grad()
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        reloaded = PeftModel.from_pretrained(fresh_base(2), tmp).eval()
        with torch.no_grad():
            return head_trainable, model.eval()(input_ids=x).logits, reloaded(input_ids=x).logits


trained, before, after = train_save_reload()   # WRONG: no task_type
print(f"WRONG -> head trained: {trained}, reload matches: {torch.allclose(before, after)}")
assert not trained and not torch.allclose(before, after)

trained, before, after = train_save_reload(task_type="SEQ_CLS")  # RIGHT
print(f"RIGHT -> head trained: {trained}, reload matches: {torch.allclose(before, after)}")
assert trained and torch.allclose(before, after)
