"""XGBoost with WandbCallback, as in W&B's XGBoost integration docs."""

import json

import numpy as np
import wandb
import xgboost as xgb
from wandb.integration.xgboost import WandbCallback

rng = np.random.default_rng(0)
X = rng.random((300, 5))
y = (X[:, 0] + 0.3 * rng.random(300) > 0.65).astype(int)
dtrain = xgb.DMatrix(X[:200], label=y[:200])
dvalid = xgb.DMatrix(X[200:], label=y[200:])
params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3,
          "eval_metric": ["logloss", "auc"], "seed": 1}

run = wandb.init(project="xgboost-demo", config=params)
results: dict = {}
bst = xgb.train(params, dtrain, num_boost_round=6, evals=[(dtrain, "train"), (dvalid, "valid")],
                evals_result=results, callbacks=[WandbCallback(log_model=True)])
run.finish()
print(json.dumps(results))
