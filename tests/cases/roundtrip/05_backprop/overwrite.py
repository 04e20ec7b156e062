# assigns instead of accumulating: right while windows don't overlap (the visible source post 002 test), wrong on
# the hidden overlapping windows (3 points): 21 - 3 = 18
# (the questions left as released, unanswered: none of their 5 points, so the sum is over the exercises)
# points: 18
# solved: avg_pool2d_backward conv2d_backward learn_kernel
# %% cell max_pool2d_backward
def max_pool2d_backward(dY, X, kernel_size, stride=None):
    kh, kw = cu.pair(kernel_size, 'kernel_size')
    sh, sw = cu.pair(kernel_size if stride is None else stride, 'stride')
    windows = X.unfold(2, kh, sh).unfold(3, kw, sw)
    N, C, out_h, out_w = windows.shape[:4]
    best = windows.reshape(N, C, out_h, out_w, kh * kw).argmax(dim=-1)
    rows = torch.arange(out_h).reshape(1, 1, out_h, 1) * sh + best // kw
    cols = torch.arange(out_w).reshape(1, 1, 1, out_w) * sw + best % kw
    n = torch.arange(N).reshape(N, 1, 1, 1).expand_as(best)
    c = torch.arange(C).reshape(1, C, 1, 1).expand_as(best)
    dX = torch.zeros_like(X)
    dX[n, c, rows, cols] = dY.to(X.dtype)
    return dX
