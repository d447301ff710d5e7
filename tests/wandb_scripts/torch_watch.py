"""A PyTorch loop with wandb.watch, as in W&B's PyTorch docs."""

import torch
import wandb
from torch import nn

torch.manual_seed(0)
config = dict(epochs=2, batches=5, learning_rate=0.05)

with wandb.init(project="pytorch-demo", config=config) as run:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=run.config.learning_rate)
    loss_fn = nn.MSELoss()
    run.watch(model, loss_fn, log="all", log_freq=2)
    x, y = torch.randn(20, 3), torch.randn(20, 1)
    for epoch in range(run.config.epochs):
        for _batch in range(run.config.batches):
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            run.log({"epoch": epoch, "loss": loss.item()})
