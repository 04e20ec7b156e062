# points: 26
# solved: answers avg_pool2d_backward conv2d_backward learn_kernel max_pool2d_backward
