"""An artifact logged and used, a model logged and linked, as in W&B's Artifacts and
Registry docs."""

import os

import wandb

os.makedirs("data", exist_ok=True)
with open("data/train.csv", "w") as f:
    f.write("x,y\n1,2\n3,4\n")

with wandb.init(project="artifacts-demo", job_type="upload") as run:
    artifact = wandb.Artifact(name="my-dataset", type="dataset", metadata={"rows": 2})
    artifact.add_file(local_path="data/train.csv")
    with artifact.new_file("notes.txt") as f:
        f.write("two rows")
    run.log_artifact(artifact, aliases=["raw"])

with wandb.init(project="artifacts-demo", job_type="train") as run:
    used = run.use_artifact("my-dataset:latest")
    data_dir = used.download()
    with open(os.path.join(data_dir, "train.csv")) as f:
        rows = f.read().splitlines()
    run.log({"rows": len(rows) - 1})
    with open("model.txt", "w") as f:
        f.write("weights: 1 2 3\n")
    run.log_model(path="model.txt", name="my-model")
    run.link_model(path="model.txt", registered_model_name="production-model",
                   aliases=["staging"])
