# points: 16
# solved: binary_cross_entropy cross_entropy sigmoid softmax
