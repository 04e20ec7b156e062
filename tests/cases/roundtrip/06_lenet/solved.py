# points: 21
# solved: build_lenet evaluate_accuracy optimizer_steps answers
