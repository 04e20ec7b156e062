# points: 22
# solved: conv2d convolve2d corr2d
