"""Tables, images, histograms, audio and HTML, as in W&B's "Log media" docs."""

import numpy as np
import wandb

run = wandb.init(project="media-demo")
table = wandb.Table(columns=["id", "prediction", "truth"])
for i in range(3):
    table.add_data(i, i % 2, 1)
pixels = np.random.default_rng(0).integers(0, 256, size=(8, 6, 3), dtype=np.uint8)
images = [wandb.Image(pixels, caption=f"sample {i}") for i in range(2)]
wandb.log({
    "predictions": table,
    "examples": images,
    "weights": wandb.Histogram(np.arange(100) / 100.0, num_bins=10),
    "tone": wandb.Audio(np.sin(np.linspace(0, 200, 800)), sample_rate=8000, caption="tone"),
    "report": wandb.Html("<h1>hello</h1>"),
    "chw": wandb.Image(np.ones((3, 4, 5), dtype=np.float32) * 0.5),
})
run.log({"status": "done", "acc": 0.9})
run.finish()
