"""A plain training loop the way W&B's quickstart writes one."""

import argparse
import math

import wandb

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=4)
parser.add_argument("--batches", type=int, default=5)
parser.add_argument("--lr", type=float, default=0.01)
args = parser.parse_args([])

run = wandb.init(project="quickstart", group="sweep-a", job_type="train", tags=["baseline"],
                 notes="a W&B quickstart loop", config={"architecture": "mlp"})
wandb.config.update(args)
wandb.config.dropout = 0.2
wandb.config.setdefaults({"lr": 0.5, "optimizer": "adam"})

wandb.define_metric("epoch")
wandb.define_metric("val/*", step_metric="epoch")
wandb.define_metric("val/loss", summary="min")
wandb.define_metric("val/acc", summary="max")

best_acc = 0.0
for epoch in range(wandb.config.epochs):
    for batch in range(wandb.config.batches):
        loss = 1.0 / (1 + epoch * wandb.config.batches + batch)
        wandb.log({"train/loss": loss, "train/lr": wandb.config.lr * 0.9 ** epoch})
    val_loss = 0.5 + 0.1 * math.cos(epoch * 2.0)
    val_acc = 0.6 + 0.05 * epoch - 0.08 * (epoch == 3)
    wandb.log({"val/loss": val_loss, "val/acc": val_acc, "epoch": epoch})
    if val_acc > best_acc:
        best_acc = val_acc
        wandb.run.summary["best_accuracy"] = best_acc

wandb.finish()
