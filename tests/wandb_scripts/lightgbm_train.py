"""LightGBM with wandb_callback and log_summary, as in W&B's LightGBM docs."""

import json

import lightgbm as lgb
import numpy as np
import wandb
from wandb.integration.lightgbm import log_summary, wandb_callback

rng = np.random.default_rng(0)
X = rng.random((300, 5))
y = X[:, 0] * 2 + rng.random(300) * 0.1
train = lgb.Dataset(X[:200], label=y[:200])
valid = lgb.Dataset(X[200:], label=y[200:], reference=train)
params = {"objective": "regression", "metric": ["l2", "l1"], "verbose": -1, "seed": 1}

wandb.init(project="lightgbm-demo", config={"rounds": 5})
evals: dict = {}
gbm = lgb.train(params, train, num_boost_round=wandb.config.rounds, valid_sets=[valid],
                valid_names=["validation"],
                callbacks=[wandb_callback(), lgb.record_evaluation(evals)])
log_summary(gbm, save_model_checkpoint=True)
wandb.finish()
print(json.dumps(evals))
