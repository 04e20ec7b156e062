# points: 21
# solved: avg_pool2d_backward conv2d_backward learn_kernel max_pool2d_backward
