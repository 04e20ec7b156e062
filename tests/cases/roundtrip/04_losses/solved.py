# points: 21
# solved: answers binary_cross_entropy cross_entropy sigmoid softmax
