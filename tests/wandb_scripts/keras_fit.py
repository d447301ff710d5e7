"""Keras with WandbMetricsLogger, as in W&B's Keras integration docs."""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras
import numpy as np
import wandb
from wandb.integration.keras import WandbMetricsLogger

config = {"epochs": 3, "batch_size": 16, "learning_rate": 0.01}
wandb.init(project="keras-demo", config=config)

rng = np.random.default_rng(0)
x = rng.random((96, 4)).astype("float32")
y = (x[:, 0] > 0.5).astype("float32")
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(wandb.config.learning_rate),
              loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=wandb.config.epochs, batch_size=wandb.config.batch_size,
                    validation_split=0.25, verbose=0, callbacks=[WandbMetricsLogger()])
wandb.finish()
print(json.dumps(history.history))
