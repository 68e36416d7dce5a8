"""One plausible wrong answer per autograded exercise, planted into one submission per grader.

Each entry replaces a solution cell (by its nbgrader ``grade_id``) of the student version. The
grading check asserts that every exercise loses points for its planted answer, so each hidden or
visible test earns its place by catching a mistake students make.
"""

PLANTED = {
    "01_data_and_flops": {
        # MACs where FLOPs are asked (no factor 2)
        "ex1_conv2d_flops": """def conv2d_flops(conv, input_shape):
    _, height, width = input_shape
    k_h, k_w = conv.kernel_size
    h_out = (height + 2 * conv.padding[0] - k_h) // conv.stride[0] + 1
    w_out = (width + 2 * conv.padding[1] - k_w) // conv.stride[1] + 1
    return conv.out_channels * h_out * w_out * conv.in_channels * k_h * k_w""",
        # the share kept instead of the share saved, and points instead of a fraction
        "ex3_narrow": """narrow = eelib.build_model(
    profile.replace(widths=tuple(w // 2 for w in profile.widths)), seed=SEED
)
narrow_saving = eelib.exit_costs(narrow, (1, 28, 28))[-1].item() / total
narrow_accuracy_drop = 3.0""",
    },
    "02_early_exits": {
        # > where ≥ is asked at the threshold
        "ex1_exit_rule": """def exit_rule(probs, thresholds):
    taus = torch.tensor(thresholds, dtype=probs.dtype)[:, None]
    confident = probs[:-1].max(dim=2).values > taus
    last = torch.ones_like(confident[:1])
    return torch.cat([confident, last]).int().argmax(dim=0)""",
        # the share of FLOPs kept, not saved
        "ex3_tau_1pt": """good_enough = curve[curve["accuracy"] >= final_acc - 0.01]
cheapest = good_enough.loc[good_enough["flops"].idxmin()]
tau_1pt, saving_1pt = cheapest["threshold"], cheapest["flops"] / costs[-1].item()""",
    },
    "03_magnitude_pruning": {
        # ranks signed weights, not magnitudes
        "ex1_layerwise_mask": """def layerwise_mask(weight, sparsity):
    k = round(sparsity * weight.numel())
    if k == 0:
        return torch.ones_like(weight)
    return (weight > weight.flatten().kthvalue(k).values).to(weight.dtype)""",
        # a threshold per layer where one threshold over the pool is asked
        "ex1b_global_mask": """def global_mask(weights, sparsity):
    masks = []
    for w in weights:
        k = round(sparsity * w.numel())
        cut = w.abs().flatten().kthvalue(k).values if k else -1.0
        masks.append((w.abs() > cut).to(w.dtype))
    return masks""",
        # one epoch of fine-tuning, not len(SWEEP)
        "ex3_budget": """long_run = copy.deepcopy(base)
eelib.global_magnitude_prune(long_run, SWEEP[-1], scope="base")
eelib.train(
    long_run, train_set, 1, scope="base", lr=profile.finetune_lr, seed=SEED, **fit
)
one_shot_long = accuracy(long_run)""",
    },
    "04_pruning_early_exit_networks": {
        # the base not frozen: the heads trained and fine-tuned with scope="all"
        "ex4_ordered": """def ordered_strategy(model, train_set, sparsity, rounds, seed, **train_kwargs):
    targets = eelib.sparsity_schedule(sparsity, rounds)
    for t, target in enumerate(targets):
        eelib.global_magnitude_prune(model, target, scope="base")
        eelib.train(model, train_set, 1, scope="base", seed=seed + t, **train_kwargs)
    eelib.train(model, train_set, 1, scope="all", seed=seed + rounds, **train_kwargs)
    for t, target in enumerate(targets):
        eelib.global_magnitude_prune(model, target, scope="exits")
        tuned = seed + rounds + 1 + t
        eelib.train(model, train_set, 1, scope="all", seed=tuned, **train_kwargs)
    return model""",
        # layer-wise where global is asked: every layer keeps 1-2 %, nothing collapses
        "ex2_collapse": """from torch.nn.utils import prune

collapsed = {}
for target in (0.98, 0.99):
    pruned = copy.deepcopy(dense)
    for _, layer in pruned.named_prunable("all"):
        prune.l1_unstructured(layer, "weight", amount=target)
    parts = eelib.part_sparsity(pruned)
    collapsed[target] = list(parts.index[parts == 1.0])""",
    },
    "05_reproducing_the_conclusions": {
        # the default 95 % level: the confidence was never changed
        "ex1_confidence": "verdict_80 = claims.verdicts(results)",
        # FLOPs where MFLOPs are asked
        "ex2_lead": """top = gap[gap["sparsity"] == gap["sparsity"].max()]
row = top.loc[top["mean"].idxmax()]
lead_mflops, lead_points = row["budget"], row["mean"]""",
    },
    "06_explorer": {
        # ordered − all at once: the sign the exercise does not ask for
        "ex1_biggest_gap": """top = networks["sparsity"].max()
one = eelib.widgets.select_run(results, "all-at-once", top, SEED).set_index("threshold")
two = eelib.widgets.select_run(results, "ordered", top, SEED).set_index("threshold")
gap = 100 * (two["accuracy"] - one["accuracy"])
tau_biggest_gap, biggest_gap = gap.abs().idxmax(), gap[gap.abs().idxmax()]""",
        # the same τ instead of the same FLOPs
        "ex2_equal_flops": """top = networks["sparsity"].max()
one = eelib.widgets.select_run(results, "all-at-once", top, SEED)
two = eelib.widgets.select_run(results, "ordered", top, SEED)
at = [eelib.widgets.operating_point(c, 0.9)["accuracy"] for c in (one, two)]
gap_at_equal_flops = 100 * (at[0] - at[1])""",
    },
    "07_beyond_the_paper": {
        # the ratio upside down: more threads ÷ 1 thread
        "ex2_threads": """threads_more = max(2, torch.get_num_threads())
one_thread = latency[latency["variant"] == "dense"]
latency_more_1 = eelib.exit_latency(joint, SHAPE, threads_more, MIN_RUN_TIME)
latency_more_batch = eelib.exit_latency(
    joint, SHAPE, threads_more, MIN_RUN_TIME, batch_size=BATCH
)
thread_speedup_1 = latency_more_1["median_ms"].iloc[-1] / one_thread["batch-1 ms"].iloc[-1]
thread_speedup_batch = latency_more_batch["median_ms"].iloc[-1] / (
    one_thread[columns[1]].iloc[-1] * BATCH
)""",
    },
    "08_capstone": {
        # pruning alone: the recipe's network, but every image runs to the final exit
        "capstone": """final_model = copy.deepcopy(given)
eelib.prune_all_at_once(
    final_model, train_set, 0.8, rounds=2, finetune_epochs=profile.finetune_epochs,
    seed=SEED, **tune,
)
final_threshold = 1.0""",
    },
}

# Submissions that try to take points without the work, and submissions that break the grading
# run. Each case: "from" (the answers it starts from: "solutions", or none: the blank student
# version), "answers" (grade_id → source), and what the check expects: "zero" (exercises that
# must earn nothing), "at_most" (exercise → the points it may keep) or "fault" (a grade in both graders all the same: nbgrader keeps the
# exercises in "kept" (per grader, where they differ) and gives the rest 0, and otter's CSV status
# gives the reason in "reason").
# "cell_timeout" (nbgrader) and "otter_timeout" (grade_otter.py) shorten a case's wait. Honest
# edits ("full": full marks expected) may also "duplicate" a solution cell (grade_id → the first
# try's source, the copy placed before it with the same cell id and metadata), "paste" a cell of
# another chapter (its source and that chapter's grade_id) after the first solution cell, and
# "prepend" their answers to the solution instead of replacing it.
LINGERING = "eelib-grading-lingering-process"  # in the argv of the process "escape" leaves

CASES = {
    "01_data_and_flops": {
        "dishonest": {
            "from": "solutions",
            "answers": {
                # torch's counter runs the convolution: not the count by hand asked
                "ex1_conv2d_flops": """def conv2d_flops(conv, input_shape):
    with FlopCounterMode(display=False) as counter:
        conv(torch.zeros(1, *input_shape))
    return counter.get_total_flops()""",
                # typed numbers, no narrow network trained
                "ex3_narrow": "narrow_saving, narrow_accuracy_drop = 0.75, 0.0",
            },
            "zero": ["ex1_conv2d_flops", "ex3_narrow"],
        },
    },
    "02_early_exits": {
        "dishonest": {
            "from": "solutions",
            # one call to the library's rule (one τ for every exit)
            "answers": {
                "ex1_exit_rule": """def exit_rule(probs, thresholds):
    return eelib.confidence_exit(probs, thresholds[0])""",
            },
            "zero": ["ex1_exit_rule"],
        },
    },
    "06_explorer": {
        "rebound": {
            # no answers, and the student's copy of the checks rebound to say "correct"
            "answers": {"ex1_biggest_gap": "eelib.checks._report = lambda *a, **k: True"},
            "zero": ["ex1_biggest_gap", "ex2_equal_flops"],
        },
        "killed": {
            "from": "solutions",
            "answers": {"ex1_biggest_gap": "import os\n\nos._exit(0)"},
            "fault": True,
            # nbgrader restarts the kernel and replays the cells before; otter's run ends there
            "kept": {"nbgrader": ["ex2_equal_flops"], "otter": []},
            "reason": "kernel died",
        },
        "endless": {
            "from": "solutions",
            "answers": {"ex2_equal_flops": "while True:\n    pass"},
            "fault": True,
            "kept": ["ex1_biggest_gap"],
            "reason": "timed out",
            "cell_timeout": 30,
            "otter_timeout": 35,  # ch6 grades in about 20 s; the loop runs till then
        },
        # answers that would pass a check run in the submission's process: an object equal to
        # anything, a tensor subclass that answers torch.equal, a rebound math.isclose
        "fakes": {
            "answers": {
                "ex1_biggest_gap": """class Anything(float):
    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return 0.0

    __rsub__ = __sub__


tau_biggest_gap, biggest_gap = Anything(0.5), Anything(0.0)""",
                "ex2_equal_flops": """import math


class Agrees(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in (torch.equal, torch.isclose, torch.allclose):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})


math.isclose = lambda *args, **kwargs: True
gap_at_equal_flops = torch.tensor(3.0).as_subclass(Agrees)""",
            },
            "zero": ["ex1_biggest_gap", "ex2_equal_flops"],
        },
        # reaching the grader: copy the instructor's answer from any notebook it can find, plant
        # files where grader files live, and leave a process running after the kernel
        "escape": {
            "answers": {
                "ex1_biggest_gap": """import json
import pathlib

tau_biggest_gap = biggest_gap = None
here = pathlib.Path.cwd()
for folder in [here, *here.parents]:
    for pattern in ("notebooks/06_*.ipynb", "source/06_*/06_*.ipynb", "stage/notebooks/06_*"):
        for found in folder.glob(pattern):
            for cell in json.loads(found.read_text())["cells"]:
                meta = cell["metadata"].get("nbgrader", {})
                if meta.get("grade_id") == "ex1_biggest_gap" and meta.get("solution"):
                    exec("".join(cell["source"]))""",
                "ex2_equal_flops": """import pathlib
import subprocess
import sys

gap_at_equal_flops = None
here = pathlib.Path.cwd()
for folder in [here, *here.parents]:
    for target in ("grading", "source/06_explorer", "nbgrader", "_build/grading"):
        try:
            (folder / target / "planted-by-a-submission.py").write_text("# planted")
        except OSError:
            pass
subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(300)", LINGERING],
    start_new_session=True,
)""".replace("LINGERING", repr(LINGERING)),
            },
            "zero": ["ex1_biggest_gap", "ex2_equal_flops"],
        },
        # honest work: a second try in a duplicated cell (the first copy wrong, same cell id),
        # a cell pasted from chapter 5 with its grading metadata, an os.chdir in an answer
        "honest_edits": {
            "from": "solutions",
            "duplicate": {"ex1_biggest_gap": "tau_biggest_gap, biggest_gap = 0.5, 0.0"},
            "paste": {
                "source": "# pasted from chapter 5, to compare\nnote = 'chapter 5 reads the same'",
                "grade_id": "ex1_confidence",
            },
            "answers": {"ex2_equal_flops": "import os\n\nos.chdir('/tmp')\n"},
            "prepend": True,
            "full": True,
        },
    },
    "07_beyond_the_paper": {
        "typed": {
            "from": "solutions",
            # numbers typed in, no timing table measured with more threads
            "answers": {
                "ex2_threads": "threads_more, thread_speedup_1, thread_speedup_batch = 4, 1.0, 3.5"
            },
            "zero": ["ex2_threads"],
        },
    },
    "08_capstone": {
        "untouched": {
            # the given network at τ = 1, and the bars moved in the student's own notebook
            "answers": {
                "capstone": """MAX_MFLOPS, MIN_ACCURACY = 1e9, 0.0
final_model, final_threshold = given, 1.0""",
            },
            "zero": ["capstone"],
        },
        # tuned on the validation split the notebook hands out: pruned hard, then trained on
        # val_set alone and τ picked there, it passes the notebook's own check (about 80 % at
        # 0.16 MFLOPs, bars 78.5 % and 0.64) and not the grader's held-out images (about 73 %)
        "val_tuned": {
            "answers": {
                "capstone": """final_model = copy.deepcopy(given)
eelib.prune_all_at_once(
    final_model, train_set, 0.9, rounds=2, finetune_epochs=1, seed=SEED, **tune
)
eelib.train(final_model, val_set, 100, scope="all", seed=SEED, **{**tune, "lr": 0.009})
curve = curve_of(final_model)
passing = curve[100 * curve["accuracy"] >= MIN_ACCURACY]
final_threshold = float(passing.loc[passing["flops"].idxmin(), "threshold"])""",
            },
            "at_most": {"capstone": 1},  # the "answered" point: a pruned network of the course's
        },
        "fake_masks": {
            # masks that claim 80 % of every layer pruned, the weights untouched
            "answers": {
                "capstone": """final_model = copy.deepcopy(given)
for _, layer in final_model.named_prunable("all"):
    mask = torch.zeros_like(layer.weight)
    mask.view(-1)[: mask.numel() // 5] = 1
    layer.register_buffer("weight_mask", mask)
final_threshold = 0.9""",
            },
            "zero": ["capstone"],
        },
    },
}
