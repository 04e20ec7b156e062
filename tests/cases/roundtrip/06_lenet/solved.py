# points: 27
# solved: build_lenet evaluate_accuracy batch_norm2d optimizer_steps answers
