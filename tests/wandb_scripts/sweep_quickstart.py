"""W&B's sweeps quickstart (docs: "Tutorial: define, initialize, and run a sweep"), as written
there: a configuration dict, wandb.sweep, a main() that calls wandb.init() and reads
wandb.config, and wandb.agent with a count."""

import json
import sys

import numpy as np
import wandb


def train_one_epoch(epoch, lr, bs):
    acc = 0.25 + ((epoch / 30) + (np.random.random() / 10))
    loss = 0.2 + (1 - ((epoch - 1) / 10 + np.random.random() / 5))
    return acc, loss


def evaluate_one_epoch(epoch):
    acc = 0.1 + ((epoch / 20) + (np.random.random() / 10))
    loss = 0.25 + (1 - ((epoch - 1) / 10 + np.random.random() / 6))
    return acc, loss


sweep_configuration = {
    "method": "random",
    "name": "sweep",
    "metric": {"goal": "maximize", "name": "val_acc"},
    "parameters": {
        "batch_size": {"values": [16, 32, 64]},
        "epochs": {"values": [2, 3, 4]},
        "lr": {"max": 0.1, "min": 0.0001},
    },
}

seen = []


def main():
    run = wandb.init()
    lr = wandb.config.lr
    bs = wandb.config.batch_size
    epochs = wandb.config.epochs
    for epoch in np.arange(1, epochs + 1):
        train_acc, train_loss = train_one_epoch(epoch, lr, bs)
        val_acc, val_loss = evaluate_one_epoch(epoch)
        wandb.log({"epoch": int(epoch), "train_acc": train_acc, "train_loss": train_loss,
                   "val_acc": val_acc, "val_loss": val_loss})
    seen.append({"id": run.sweep_id, "config": dict(wandb.config), "val_acc": val_acc,
                 "steps": int(epochs)})


sweep_id = wandb.sweep(sweep=sweep_configuration, project="my-first-sweep")
wandb.agent(sweep_id, function=main, count=5)
json.dump({"sweep_id": sweep_id, "trials": seen}, sys.stdout)
print()
