# corr2d's cell does not parse: corr2d scores 0; convolve2d's tests give it PyTorch's corr2d (3), conv2d 10
# points: 13
# solved: conv2d convolve2d
# %% cell corr2d
def corr2d(X, K, mode='valid')
    return X
