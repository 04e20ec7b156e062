# points: 34
# solved: conv2d convolve2d corr2d conv2d_unfold answer_params answer_macs answer_stack answer_diffs answer_im2col
