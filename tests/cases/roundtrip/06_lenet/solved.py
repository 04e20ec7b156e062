# points: 16
# solved: build_lenet evaluate_accuracy optimizer_steps
