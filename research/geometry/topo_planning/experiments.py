"""TopoPlan experiments: the authors' recipe (README command of learning_to_plan) and a CPU small run.

Recipe (train.py + README, spec card topo_planning.md "Method"): Adam with amsgrad, lr 1e-3 (torch betas 0.9 /
0.999, eps 1e-8), weight decay 1e-4 (coupled L2), batch 32, clip_grad_norm_ 2.0 over all gradients, StepLR
x0.1 every 120 epochs, 500 epochs over the first 74,000 training graphs (2,312 steps per epoch,
drop_last), validation on the first 1,600 val graphs (here with all 32 targets each) with --use_probs --normalize --use_weights; one random
target per graph per epoch. configs/topo_planning/graph_data3_8xb4.yaml runs it on 8 GPUs.
"""

from __future__ import annotations

from official.core.config import (
    ExperimentConfig,
    ExportConfig,
    OptimizerConfig,
    RuntimeConfig,
    ScheduleConfig,
    TrainerConfig,
    model_config,
)
from official.core.registry import register_experiment
from research.geometry.topo_planning.config import TopoGraphDataConfig, TopoPlanTaskConfig


def official_trainer(epochs: int = 500, batch: int = 32, lr: float = 1e-3, decay_epochs: float = 120.0) -> TrainerConfig:
    """train.py: Adam(lr, amsgrad=True, weight_decay=1e-4), clip_grad_norm_(2.0), StepLR(120, 0.1), 500 epochs."""
    return TrainerConfig(
        epochs=epochs,
        global_batch_size=batch,
        optimizer=OptimizerConfig(name="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8, amsgrad=True, global_clipnorm=2.0),
        lr_schedule=ScheduleConfig(name="step", base_lr=lr, decay_epochs=decay_epochs, decay_rate=0.1),
        weight_decay=1e-4,
        weight_decay_mode="l2",
        checkpoints_to_keep=3,
        log_every_n_steps=100,
    )


def topo_experiment(model, path: str, trainer: TrainerConfig, train_limit: int = 0, val_limit: int = 0,
                    runtime: RuntimeConfig | None = None) -> ExperimentConfig:
    return ExperimentConfig(
        task=TopoPlanTaskConfig(),
        model=model,
        train_data=TopoGraphDataConfig(path=path, split="train", data_limit=train_limit),
        eval_data=TopoGraphDataConfig(path=path, split="val", data_limit=val_limit, all_targets=True),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        export=ExportConfig(formats=("saved_model",), verify_examples=2, atol=1e-5),
    )


@register_experiment("topo_planning_gnn256_graph_data3")
def topo_planning_gnn256_graph_data3() -> ExperimentConfig:
    """The GNN (hidden 256, features on) on graph_data3_distance_weights, the README's command."""
    return topo_experiment(model_config("topo_planning_gnn256"), "graph_data3_distance_weights", official_trainer(),
                           train_limit=74_000, val_limit=1_600)


# --- CPU small run: `python -m tools.make_topo_graphs --out=data/topo_graphs_synth` -------------------------
# 1,000 generated random geometric graphs (64 val, the first 16 scored with all 32 targets each). The tiny GNN
# (hidden 32, features off) at 3 rounds with a 1-layer GRU (a quarter of the sequential GRU steps of 6 x 2: the
# run fits the CPU budget), the authors' optimizer at lr 1e-2 (our choice for a short run), batch 8, step
# decay x0.1 after 80 % of the run.
SMALL_STEPS = 300


@register_experiment("topo_planning_tiny_synth_graphs")
def topo_planning_tiny_synth_graphs() -> ExperimentConfig:
    trainer = official_trainer(epochs=SMALL_STEPS // 10, batch=8, lr=1e-2, decay_epochs=SMALL_STEPS // 10 * 0.8)
    trainer.steps_per_epoch = 10
    trainer.steps_per_loop = SMALL_STEPS // 2
    trainer.validation_every_n_loops = 0
    trainer.log_every_n_steps = 50
    runtime = RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False)
    model = model_config("topo_planning_tiny")
    model.gru_depth, model.n_steps = 1, 3
    return topo_experiment(model, "topo_graphs_synth", trainer, val_limit=16, runtime=runtime)
