# points: 29
# solved: conv2d convolve2d corr2d conv2d_unfold
