# forgets to divide by the window's size: both avg_pool2d_backward tests fail (1 + 2): 21 - 3 = 18
# (the questions left as released, unanswered: none of their 5 points, so the sum is over the exercises)
# points: 18
# solved: conv2d_backward learn_kernel max_pool2d_backward
# %% cell avg_pool2d_backward
def avg_pool2d_backward(dY, X, kernel_size, stride=None):
    kh, kw = cu.pair(kernel_size, 'kernel_size')
    sh, sw = cu.pair(kernel_size if stride is None else stride, 'stride')
    out_h, out_w = dY.shape[-2:]
    dX = torch.zeros_like(X)
    for i in range(kh):
        for j in range(kw):
            dX[:, :, i:i + (out_h - 1) * sh + 1:sh, j:j + (out_w - 1) * sw + 1:sw] += dY
    return dX
